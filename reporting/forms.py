from django import forms
from django.utils import timezone

from cvu.models import ContratDeVille
from quartiers.models import Commune, Qpv, Secteur


def current_contract() -> ContratDeVille | None:
    year = timezone.localdate().year
    contracts = ContratDeVille.objects.order_by("-annee_debut")
    return contracts.filter(annee_debut__lte=year, annee_fin__gte=year).first() or contracts.first()


class BootstrapForm(forms.Form):
    """Small Bootstrap controls on every field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )


class DashboardForm(BootstrapForm):
    """The dashboard's scope; defaults to the current contract and year."""

    contrat = forms.ModelChoiceField(
        label="Contrat", queryset=ContratDeVille.objects.all(), required=False, empty_label=None
    )
    annee = forms.IntegerField(label="Exercice", required=False, min_value=1990, max_value=2100)
    secteur = forms.ModelChoiceField(
        label="Secteur",
        queryset=Secteur.objects.order_by("nom"),
        required=False,
        empty_label="Tous",
    )
    commune = forms.ModelChoiceField(
        label="Commune",
        queryset=Commune.objects.filter(qpvs__isnull=False).distinct().order_by("nom"),
        required=False,
        empty_label="Toutes",
    )

    def __init__(self, data=None, **kwargs):
        super().__init__(data if data is not None else {}, **kwargs)

    def clean(self):
        cleaned = super().clean()
        contrat = cleaned.get("contrat") or current_contract()
        cleaned["contrat"] = contrat
        annee = cleaned.get("annee") or timezone.localdate().year
        if contrat is not None and not contrat.annee_debut <= annee <= contrat.annee_fin:
            if self.data.get("annee"):
                self.add_error(
                    "annee",
                    f"Le contrat {contrat.nom} couvre les exercices {contrat.annee_debut} à "
                    f"{contrat.annee_fin}.",
                )
            annee = min(max(annee, contrat.annee_debut), contrat.annee_fin)
        cleaned["annee"] = annee
        return cleaned


# ---------------------------------------------------------------- report parameters


class ReportForm(BootstrapForm):
    """A report's parameters: only objects visible to the user can be chosen."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                visible = field.queryset.model.objects.visible_to(user)
                field.queryset = field.queryset.filter(pk__in=visible.values("pk"))


class ParticipationReportForm(ReportForm):
    """Report 1: a commune, or every commune (intercommunal)."""

    commune = forms.ModelChoiceField(
        label="Commune",
        queryset=Commune.objects.filter(conseils__isnull=False).distinct().order_by("nom"),
        required=False,
        empty_label="Toutes (intercommunal)",
        help_text="Laissez vide pour le rapport intercommunal.",
    )

    def describe(self) -> tuple[str, dict]:
        commune = self.cleaned_data.get("commune")
        if commune is None:
            return "Avancement des démarches participatives – intercommunal", {}
        return f"Avancement des démarches participatives – {commune.nom}", {"commune": commune.pk}


class ProgrammationReportForm(ReportForm):
    """Report 2: a contract's programming for one year."""

    contrat = forms.ModelChoiceField(
        label="Contrat", queryset=ContratDeVille.objects.all(), empty_label=None
    )
    annee = forms.IntegerField(label="Exercice", min_value=1990, max_value=2100)

    def clean(self):
        cleaned = super().clean()
        contrat, annee = cleaned.get("contrat"), cleaned.get("annee")
        if contrat and annee and not contrat.annee_debut <= annee <= contrat.annee_fin:
            self.add_error(
                "annee",
                f"Le contrat {contrat.nom} couvre les exercices {contrat.annee_debut} à "
                f"{contrat.annee_fin}.",
            )
        return cleaned

    def describe(self) -> tuple[str, dict]:
        contrat, annee = self.cleaned_data["contrat"], self.cleaned_data["annee"]
        return (
            f"Bilan de programmation {annee} – {contrat.nom}",
            {"contrat": contrat.pk, "annee": annee},
        )


class FicheReportForm(ReportForm):
    """Report 3: one QPV or one commune."""

    qpv = forms.ModelChoiceField(
        label="QPV",
        queryset=Qpv.objects.order_by("-geographie", "nom"),
        required=False,
        empty_label="—",
    )
    commune = forms.ModelChoiceField(
        label="ou commune",
        queryset=Commune.objects.order_by("nom"),
        required=False,
        empty_label="—",
    )

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("qpv")) == bool(cleaned.get("commune")):
            raise forms.ValidationError("Choisissez un QPV ou une commune (l'un des deux).")
        return cleaned

    def describe(self) -> tuple[str, dict]:
        qpv, commune = self.cleaned_data.get("qpv"), self.cleaned_data.get("commune")
        if qpv is not None:
            return f"Fiche QPV – {qpv}", {"qpv": qpv.pk}
        return f"Fiche commune – {commune.nom}", {"commune": commune.pk}


REPORT_FORMS = {
    "participation": ParticipationReportForm,
    "programmation": ProgrammationReportForm,
    "fiche": FicheReportForm,
}
