"""Forms of the signatories' commitments: one commitment, and their review in a steering
meeting."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from core.forms import CompactRowForm
from core.widgets import CheckboxFilterList
from quartiers.models import Qpv

from .forms_gouvernance import DATE_WIDGET
from .models import EngagementSignataire, IndicateurResultat, NoeudStrategie, Reunion


class EngagementForm(forms.ModelForm):
    """A commitment of the given contract: its signatories, tree, QPVs and indicators."""

    class Meta:
        model = EngagementSignataire
        fields = ["signataire", "texte", "objectif", "qpvs", "indicateur", "statut", "date_revue"]
        widgets = {
            "texte": forms.Textarea(attrs={"rows": 3}),
            "qpvs": CheckboxFilterList(),
            "date_revue": DATE_WIDGET,
        }

    def __init__(self, *args, contrat, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.contrat = contrat
        fields = self.fields
        fields["signataire"].queryset = contrat.signataires.order_by("nom")
        fields["objectif"].queryset = NoeudStrategie.objects.filter(contrat=contrat)
        fields["objectif"].label_from_instance = lambda n: f"{n.get_niveau_display()} {n}"
        fields["qpvs"].queryset = Qpv.objects.filter(geographie=contrat.geographie)
        fields["indicateur"].queryset = IndicateurResultat.objects.filter(
            objectif__contrat=contrat
        ).select_related("objectif")
        fields["indicateur"].label_from_instance = lambda i: f"{i.objectif.code} {i}".strip()
        if self.instance.pk is None and not self.initial.get("date_revue"):
            self.initial["date_revue"] = timezone.localdate() + timedelta(days=365)


def review_meetings(contrat):
    """The steering meetings a review may be recorded in: held or begun, not cancelled."""
    return (
        Reunion.objects.filter(instance__type__pilotage=True, debut__lte=timezone.now())
        .exclude(statut=Reunion.Statut.ANNULEE)
        .filter(debut__year__gte=contrat.annee_debut)
        .select_related("instance")
        .order_by("-debut")
    )


class RevueReunionForm(forms.Form):
    reunion = forms.ModelChoiceField(
        label="Réunion de l'instance de pilotage",
        queryset=Reunion.objects.none(),
        error_messages={
            "required": "Choisissez la réunion où les engagements ont été revus.",
            "invalid_choice": "Choisissez une réunion d'une instance de pilotage déjà tenue.",
        },
    )

    def __init__(self, *args, contrat, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reunion"].queryset = review_meetings(contrat)
        self.fields["reunion"].label_from_instance = lambda r: (
            f"{r.instance.nom} – {timezone.localtime(r.debut):%d/%m/%Y}"
        )


class RevueEngagementForm(CompactRowForm, forms.ModelForm):
    class Meta:
        model = EngagementSignataire
        fields = ["statut", "commentaire", "date_revue"]
        widgets = {"commentaire": forms.Textarea(attrs={"rows": 2}), "date_revue": DATE_WIDGET}
        labels = {"commentaire": "Constat", "date_revue": "Prochaine revue"}
        error_messages = {"date_revue": {"required": "Indiquez la date de la prochaine revue."}}


RevueFormSet = forms.modelformset_factory(
    EngagementSignataire, form=RevueEngagementForm, extra=0, edit_only=True
)
