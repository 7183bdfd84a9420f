from django import forms
from django.utils import timezone

from core.forms import FrenchDecimalField

from .models import Observation, ValeurIndicateur


class ObservationForm(forms.ModelForm):
    class Meta:
        model = Observation
        fields = ["date", "titre", "texte"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "texte": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["date"].initial = timezone.localdate()


class ValeurIndicateurForm(forms.ModelForm):
    valeur = FrenchDecimalField(label="Valeur", max_digits=14, decimal_places=4)

    class Meta:
        model = ValeurIndicateur
        fields = ["indicateur", "annee", "valeur", "source"]
        error_messages = {"annee": {"invalid": "Saisissez une année, par exemple 2022."}}
