from django import forms
from django.db.models import Q
from django.utils import timezone

from core.forms import CompactRowForm
from core.widgets import CheckboxFilterList
from cvu.models import Action

from .models import (
    BesoinFormation,
    Charte,
    ConseilCitoyen,
    CycleQualification,
    Demarche,
    Evaluation,
    Membre,
    PointEtape,
    SessionFormation,
    VerificationCharte,
)

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
            "part_jeunes_cible",
            "arrete_date",
            "arrete_reference",
            "structure_porteuse",
            "adresse_contact",
            "notes",
        ]
        widgets = {
            "arrete_date": DATE_WIDGET,
            "qpvs": CheckboxFilterList(),
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


class DemarcheForm(forms.ModelForm):
    class Meta:
        model = Demarche
        fields = [
            "titre",
            "initiateur",
            "organisation",
            "type",
            "statut",
            "role_pma",
            "date_debut",
            "date_fin",
            "communes",
            "qpvs",
            "referent",
            "actions",
            "description",
        ]
        widgets = {
            "actions": CheckboxFilterList(),
            "date_debut": DATE_WIDGET,
            "date_fin": DATE_WIDGET,
            "communes": CheckboxFilterList(),
            "qpvs": CheckboxFilterList(),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Recent actions tagged « participation citoyenne », plus those already linked.
        recent = Action.objects.filter(
            annee__gte=timezone.localdate().year - 2, tags__nom__icontains="particip"
        ).values("pk")
        linked = self.instance.actions.values("pk") if self.instance.pk else []
        self.fields["actions"].queryset = Action.objects.filter(
            Q(pk__in=recent) | Q(pk__in=linked)
        ).order_by("-annee", "titre")
        self.fields[
            "actions"
        ].help_text = "Actions des trois dernières années marquées « participation citoyenne »."


class PointEtapeForm(forms.ModelForm):
    class Meta:
        model = PointEtape
        fields = ["date", "texte"]
        widgets = {"date": DATE_WIDGET, "texte": forms.Textarea(attrs={"rows": 3})}


class VerificationForm(CompactRowForm, forms.ModelForm):
    class Meta:
        model = VerificationCharte
        fields = ["appreciation", "commentaire"]


class CharteForm(forms.ModelForm):
    engagements = forms.CharField(
        label="Engagements",
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Un engagement par ligne.",
    )

    class Meta:
        model = Charte
        fields = ["version", "date_adoption", "instance_adoption", "texte"]
        widgets = {"date_adoption": DATE_WIDGET, "texte": forms.Textarea(attrs={"rows": 6})}

    def clean_engagements(self):
        lines = [line.strip() for line in self.cleaned_data["engagements"].splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise forms.ValidationError("Indiquez au moins un engagement.")
        return lines


class SessionForm(forms.ModelForm):
    class Meta:
        model = SessionFormation
        fields = ["theme", "date", "lieu", "intervenant", "partenaire", "capacite"]
        widgets = {
            "date": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
        }


class EvaluationForm(forms.ModelForm):
    class Meta:
        model = Evaluation
        fields = ["note", "commentaire"]


class CycleForm(forms.ModelForm):
    class Meta:
        model = CycleQualification
        fields = ["annee", "titre", "partenaires", "notes"]
        widgets = {
            "partenaires": CheckboxFilterList(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class BesoinForm(forms.ModelForm):
    class Meta:
        model = BesoinFormation
        fields = ["conseil", "besoin"]

    def __init__(self, *args, conseils, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["conseil"].queryset = conseils
