from django import forms
from django.utils import timezone

from cvu.models import ContratDeVille
from quartiers.models import Commune, Secteur


def current_contract() -> ContratDeVille | None:
    year = timezone.localdate().year
    contracts = ContratDeVille.objects.order_by("-annee_debut")
    return contracts.filter(annee_debut__lte=year, annee_fin__gte=year).first() or contracts.first()


class DashboardForm(forms.Form):
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
        for field in self.fields.values():
            field.widget.attrs["class"] = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )

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
