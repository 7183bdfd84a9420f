from django import forms

from .models import ConseilCitoyen, Membre

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ConseilForm(forms.ModelForm):
    class Meta:
        model = ConseilCitoyen
        fields = [
            "nom",
            "type",
            "commune",
            "qpvs",
            "statut",
            "arrete_date",
            "arrete_reference",
            "structure_porteuse",
            "adresse_contact",
            "notes",
        ]
        widgets = {
            "arrete_date": DATE_WIDGET,
            "qpvs": forms.SelectMultiple(attrs={"size": 5}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class MembreForm(forms.ModelForm):
    class Meta:
        model = Membre
        fields = [
            "prenom",
            "nom",
            "college",
            "organisation",
            "genre",
            "tranche_age",
            "resident_qpv",
            "designation",
            "mandat_debut",
            "mandat_fin",
            "statut",
            "email",
            "telephone",
            "base_legale",
            "date_consentement",
        ]
        widgets = {
            "mandat_debut": DATE_WIDGET,
            "mandat_fin": DATE_WIDGET,
            "date_consentement": DATE_WIDGET,
        }
        help_texts = {
            "tranche_age": "Jamais la date de naissance : la tranche d'âge suffit.",
            "email": "Facultatif.",
            "telephone": "Facultatif.",
        }
