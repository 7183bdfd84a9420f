"""Forms of the evaluation frame: an objective's result indicators and their yearly values."""

from django import forms
from django.forms import inlineformset_factory

from core.forms import CompactRowForm, FrenchDecimalField

from .models import EvaluationMiParcours, IndicateurResultat, NoeudStrategie, ValeurResultat
from .models.evaluation import MAX_PER_OBJECTIF


class IndicateurResultatForm(CompactRowForm, forms.ModelForm):
    valeur_reference = FrenchDecimalField(
        label="Valeur de référence", max_digits=14, decimal_places=2, required=False
    )
    cible = FrenchDecimalField(label="Cible 2030", max_digits=14, decimal_places=2, required=False)

    class Meta:
        model = IndicateurResultat
        fields = [
            "libelle",
            "unite",
            "annee_reference",
            "valeur_reference",
            "cible",
            "source",
            "frequence",
        ]


IndicateurResultatFormSet = inlineformset_factory(
    NoeudStrategie,
    IndicateurResultat,
    form=IndicateurResultatForm,
    fk_name="objectif",
    extra=1,
    max_num=MAX_PER_OBJECTIF,
    validate_max=True,
    can_delete=True,
)


class ValeurResultatForm(CompactRowForm, forms.ModelForm):
    valeur = FrenchDecimalField(label="Valeur", max_digits=14, decimal_places=2)

    class Meta:
        model = ValeurResultat
        fields = ["annee", "valeur", "commentaire"]


class CalculQpvForm(forms.ModelForm):
    """Where the years without an entered value come from: a QPV indicator, summed or averaged
    over the contract's QPVs."""

    class Meta:
        model = IndicateurResultat
        fields = ["indicateur_qpv", "agregation"]
        widgets = {"agregation": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicateur_qpv"].empty_label = "Aucun : seules les valeurs saisies comptent"
        self.fields["indicateur_qpv"].widget.attrs["class"] = "form-select"


ValeurResultatFormSet = inlineformset_factory(
    IndicateurResultat, ValeurResultat, form=ValeurResultatForm, extra=1, can_delete=True
)


class MiParcoursForm(forms.ModelForm):
    class Meta:
        model = EvaluationMiParcours
        fields = ["annee", "avis_conseils", "conclusions", "decisions", "reunion", "adoptee_le"]
        widgets = {
            "avis_conseils": forms.Textarea(attrs={"rows": 5}),
            "conclusions": forms.Textarea(attrs={"rows": 8}),
            "decisions": forms.Textarea(attrs={"rows": 5}),
            "adoptee_le": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .forms_engagements import review_meetings

        self.fields["reunion"].queryset = review_meetings(self.instance.contrat)
        self.fields["reunion"].label_from_instance = lambda r: (
            f"{r.instance.nom} – {r.debut:%d/%m/%Y}"
        )
        self.fields["reunion"].help_text = "La réunion de l'instance de pilotage qui l'a examinée."
