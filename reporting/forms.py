from django import forms
from django.utils import timezone

from core import versions
from cvu.models import Action, AppelAProjets, ContratDeVille, Financement
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


def existing_years(contrat: ContratDeVille) -> list[int]:
    """The contract's years that have a call for projects, an action or a financing line; kept
    while the data does not change (core.versions: 30 ms over 180,000 actions at ten times
    PMA's history, one query once kept). The contract's own table is not watched: its period is
    in the key."""
    key = f"annees:{contrat.pk}:{contrat.annee_debut}:{contrat.annee_fin}"
    return versions.cached(key, lambda: _existing_years(contrat))


def _existing_years(contrat: ContratDeVille) -> list[int]:
    years = set(
        AppelAProjets.objects.filter(contrat=contrat).values_list("annee", flat=True)
    ) | set(
        Action.objects.filter(contrat=contrat)
        .order_by()  # Meta.ordering would join the DISTINCT and multiply the rows
        .values_list("annee", flat=True)
        .distinct()
    )
    # A line outside its action's year is rare: only the years still missing are looked up,
    # through the (annee, action) index, not every line of the contract (0.4 s at ten times
    # PMA's history).
    missing = set(range(contrat.annee_debut, contrat.annee_fin + 1)) - years
    if missing:
        years |= set(
            Financement.objects.filter(action__contrat=contrat, annee__in=missing)
            .order_by()
            .values_list("annee", flat=True)
            .distinct()
        )
    return sorted(y for y in years if contrat.annee_debut <= y <= contrat.annee_fin)


def default_year(contrat: ContratDeVille, years: list[int]) -> int:
    """The latest year with a call for projects; else the latest year with data; else this
    year, within the contract."""
    latest_call = (
        AppelAProjets.objects.filter(contrat=contrat)
        .order_by("-annee")
        .values_list("annee", flat=True)
    ).first()
    if latest_call is not None:
        return latest_call
    if years:
        return years[-1]
    return min(max(timezone.localdate().year, contrat.annee_debut), contrat.annee_fin)


class DashboardForm(BootstrapForm):
    """The dashboard's scope: a contract, one of its existing years (a list, not a free number),
    a sector or a commune. Defaults to the current contract and its latest call's year."""

    contrat = forms.ModelChoiceField(
        label="Contrat", queryset=ContratDeVille.objects.all(), required=False, empty_label=None
    )
    annee = forms.IntegerField(label="Exercice", required=False, widget=forms.Select)
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
        data = (data if data is not None else {}).copy()
        contrat = None
        if data.get("contrat"):
            contrat = ContratDeVille.objects.filter(pk=_int(data["contrat"])).first()
        contrat = contrat or current_contract()
        self.years = existing_years(contrat) if contrat else []
        self.default_year = default_year(contrat, self.years) if contrat else None
        if contrat is not None:
            data.setdefault("contrat", str(contrat.pk))
        if not data.get("annee") and self.default_year is not None:
            data["annee"] = str(self.default_year)
        super().__init__(data, **kwargs)
        years = list(self.years)
        chosen = _int(data.get("annee"))
        if chosen is not None and chosen not in years:
            years = sorted({*years, chosen})  # shown with its error, so the page says what it is
        if self.default_year is not None and self.default_year not in years:
            years = sorted({*years, self.default_year})
        self.fields["annee"].widget.choices = [(str(y), str(y)) for y in reversed(years)]

    def clean(self):
        cleaned = super().clean()
        contrat = cleaned.get("contrat") or current_contract()
        cleaned["contrat"] = contrat
        annee = cleaned.get("annee") or self.default_year or timezone.localdate().year
        if contrat is not None and not contrat.annee_debut <= annee <= contrat.annee_fin:
            self.add_error(
                "annee",
                f"Le contrat {contrat.nom} couvre les exercices {contrat.annee_debut} à "
                f"{contrat.annee_fin}.",
            )
            annee = self.default_year
        cleaned["annee"] = annee
        return cleaned


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


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
