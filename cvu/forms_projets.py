"""Forms of a projet de quartier: its stakes and its three to five priorities."""

from django import forms

from core.forms import CompactRowForm

from .models import NoeudStrategie, PrioriteQuartier, ProjetQuartier
from .models.projets import PRIORITES_MAX


class ProjetQuartierForm(forms.ModelForm):
    class Meta:
        model = ProjetQuartier
        fields = ["enjeux"]
        widgets = {"enjeux": forms.Textarea(attrs={"rows": 6})}


class PrioriteForm(CompactRowForm, forms.ModelForm):
    class Meta:
        model = PrioriteQuartier
        fields = ["ordre", "libelle", "objectif", "description"]
        error_messages = {
            "libelle": {"required": "Nommez la priorité."},
            "objectif": {"required": "Rattachez la priorité à la stratégie du contrat."},
        }

    def __init__(self, *args, contrat, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objectif"].queryset = NoeudStrategie.objects.filter(contrat=contrat)


class BasePrioriteFormSet(forms.BaseInlineFormSet):
    default_error_messages = {
        **forms.BaseInlineFormSet.default_error_messages,
        "too_many_forms": f"Un projet de quartier a au plus {PRIORITES_MAX} priorités.",
    }


PrioriteFormSet = forms.inlineformset_factory(
    ProjetQuartier,
    PrioriteQuartier,
    form=PrioriteForm,
    formset=BasePrioriteFormSet,
    extra=1,
    max_num=PRIORITES_MAX,
    validate_max=True,
    can_delete=True,
)
