from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.forms import CompactRowForm, MontantField, model_choices
from core.widgets import CheckboxFilterList
from quartiers.models import Commune, Observation, Qpv

from .models import (
    Action,
    ActionTFPB,
    Contact,
    Decision,
    DispositifConnexe,
    ElementPlanAction,
    IndicateurResultat,
    Instance,
    NoeudStrategie,
    Organisation,
    PointOrdreDuJour,
    PosteAdulteRelais,
    PropositionReorientation,
    Reunion,
    SuiteADonner,
)

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _agents():
    return get_user_model().objects.filter(is_active=True).exclude(role="direction")


def _contacts():
    return Contact.objects.select_related("organisation").order_by("organisation__nom", "nom")


def contact_label(contact) -> str:
    return f"{contact} ({contact.organisation.nom})"


class ContactChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return contact_label(obj)


class ContactsChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return contact_label(obj)


class InstanceForm(forms.ModelForm):
    contacts_membres = ContactsChoiceField(
        label="Personnes membres",
        queryset=_contacts(),
        required=False,
        widget=CheckboxFilterList(),
    )

    class Meta:
        model = Instance
        fields = [
            "nom",
            "type",
            "echelle",
            "communes",
            "organisateur",
            "organisations_membres",
            "contacts_membres",
            "sieges_conseil_citoyen",
            "dispositif",
            "mode",
            "active",
            "notes",
        ]
        widgets = {
            "communes": CheckboxFilterList(),
            "organisations_membres": CheckboxFilterList(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["communes"].queryset = Commune.objects.order_by("nom")
        self.fields["organisateur"].queryset = _agents()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("echelle") == Instance.Echelle.COMMUNALE and not cleaned.get("communes"):
            self.add_error(
                "communes", "Une instance communale est rattachée à au moins une commune."
            )
        if cleaned.get("dispositif") and not cleaned.get("mode"):
            self.add_error("mode", "Précisez le mode d'implication dans ce dispositif.")
        return cleaned


class DispositifForm(forms.ModelForm):
    class Meta:
        model = DispositifConnexe
        fields = ["nom", "type", "mode", "communes", "qpvs", "convention", "notes"]
        widgets = {
            "communes": CheckboxFilterList(),
            "qpvs": CheckboxFilterList(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class ElementPlanActionForm(CompactRowForm, forms.ModelForm):
    class Meta:
        model = ElementPlanAction
        fields = ["quoi", "qui", "echeance", "statut"]
        widgets = {"echeance": DATE_WIDGET}


PlanActionFormSet = forms.inlineformset_factory(
    DispositifConnexe, ElementPlanAction, form=ElementPlanActionForm, extra=1, can_delete=True
)


class ReunionForm(forms.ModelForm):
    invites_contacts = ContactsChoiceField(
        label="Partenaires invités",
        queryset=_contacts(),
        required=False,
        widget=CheckboxFilterList(),
    )

    class Meta:
        model = Reunion
        fields = [
            "instance",
            "titre",
            "debut",
            "fin",
            "lieu",
            "statut",
            "invites_utilisateurs",
            "invites_contacts",
        ]
        widgets = {
            "debut": DATETIME_WIDGET,
            "fin": DATETIME_WIDGET,
            "invites_utilisateurs": CheckboxFilterList(),
        }

    def __init__(self, *args, instances=None, **kwargs):
        super().__init__(*args, **kwargs)
        if instances is not None:
            self.fields["instance"].queryset = instances
        self.fields["invites_utilisateurs"].queryset = _agents()

    def clean(self):
        cleaned = super().clean()
        debut, fin = cleaned.get("debut"), cleaned.get("fin")
        if debut and fin and fin <= debut:
            self.add_error("fin", "La fin de la réunion doit suivre son début.")
        if (
            debut
            and cleaned.get("statut") == Reunion.Statut.PREVUE
            and debut < timezone.now() - timedelta(days=1)
        ):
            self.add_error(
                "statut",
                "Cette réunion est passée : indiquez si elle s'est tenue ou si elle a été annulée.",
            )
        return cleaned


class PointForm(CompactRowForm, forms.ModelForm):
    class Meta:
        model = PointOrdreDuJour
        fields = ["ordre", "texte", "action", "programme"]


PointFormSet = forms.inlineformset_factory(
    Reunion, PointOrdreDuJour, form=PointForm, extra=2, can_delete=True
)


class ClotureForm(forms.ModelForm):
    class Meta:
        model = Reunion
        fields = ["statut", "compte_rendu"]
        widgets = {"compte_rendu": forms.Textarea(attrs={"rows": 10})}


class DecisionForm(CompactRowForm, forms.ModelForm):
    class Meta:
        model = Decision
        fields = ["texte", "action", "programme"]
        widgets = {"texte": forms.Textarea(attrs={"rows": 2})}


DecisionFormSet = forms.inlineformset_factory(
    Reunion, Decision, form=DecisionForm, extra=1, can_delete=True
)


class SuiteForm(CompactRowForm, forms.ModelForm):
    responsable = forms.ModelChoiceField(
        label="Responsable (agent)", queryset=_agents(), required=False
    )
    responsable_contact = ContactChoiceField(
        label="ou partenaire", queryset=_contacts(), required=False
    )

    class Meta:
        model = SuiteADonner
        fields = ["quoi", "responsable", "responsable_contact", "echeance", "statut"]
        widgets = {"echeance": DATE_WIDGET}
        error_messages = {"echeance": {"required": "Indiquez une échéance."}}

    def clean(self):
        cleaned = super().clean()
        agent, contact = cleaned.get("responsable"), cleaned.get("responsable_contact")
        if not agent and not contact:
            self.add_error("responsable", "Indiquez un responsable : un agent ou un partenaire.")
        if agent and contact:
            self.add_error(
                "responsable_contact", "Un seul responsable : un agent ou un partenaire."
            )
        return cleaned


SuiteFormSet = forms.inlineformset_factory(
    Reunion, SuiteADonner, form=SuiteForm, extra=1, can_delete=True
)


class SuiteUpdateForm(forms.ModelForm):
    class Meta:
        model = SuiteADonner
        fields = ["quoi", "echeance", "statut", "fait_le"]
        widgets = {"echeance": DATE_WIDGET, "fait_le": DATE_WIDGET}


# ---------------------------------------------------------------- proposals


class PropositionForm(forms.ModelForm):
    """A proposal of the given contract: its choices are that contract's tree, QPVs, indicators
    and dossiers with a bilan, and the observations of the last three years."""

    class Meta:
        model = PropositionReorientation
        fields = ["objet", "motifs", "objectif", "qpvs", "observations", "indicateurs", "actions"]
        widgets = {
            "motifs": forms.Textarea(attrs={"rows": 6}),
            "qpvs": CheckboxFilterList(),
            "observations": CheckboxFilterList(),
            "indicateurs": CheckboxFilterList(),
            "actions": CheckboxFilterList(),
        }

    def __init__(self, *args, contrat, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.contrat = contrat
        chosen = self.instance.pk is not None
        since = timezone.localdate() - timedelta(days=3 * 365)
        observations = Observation.objects.filter(date__gte=since)
        if chosen:
            observations |= Observation.objects.filter(propositions=self.instance)
        fields = self.fields
        fields["objectif"].queryset = NoeudStrategie.objects.filter(contrat=contrat)
        fields["objectif"].label_from_instance = lambda n: f"{n.get_niveau_display()} {n}"
        fields["qpvs"].queryset = Qpv.objects.filter(geographie=contrat.geographie)
        fields["observations"].queryset = observations.select_related("qpv", "commune").distinct()
        fields["observations"].label_from_instance = lambda o: f"{o} ({o.territory})"
        fields["indicateurs"].queryset = IndicateurResultat.objects.filter(
            objectif__contrat=contrat
        ).select_related("objectif")
        fields["indicateurs"].label_from_instance = lambda i: f"{i.objectif.code} {i}".strip()
        fields["actions"].queryset = (
            Action.objects.filter(contrat=contrat, bilans__isnull=False)
            .distinct()
            .order_by("-annee", "titre")
        )
        fields["actions"].label_from_instance = lambda a: f"{a.annee} · {a.titre}"
        fields["actions"].help_text = "Les dossiers de ce contrat dont un bilan a été reçu."


class InscriptionForm(forms.Form):
    reunion = forms.ModelChoiceField(
        label="Réunion",
        queryset=Reunion.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Choisissez une réunion à venir dans la liste."},
    )

    def __init__(self, *args, reunions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reunion"].queryset = reunions
        self.fields["reunion"].label_from_instance = lambda r: (
            f"{r.instance.nom} – {timezone.localtime(r.debut):%d/%m/%Y %H:%M}"
        )


class DecisionPropositionForm(forms.Form):
    issue = forms.ChoiceField(
        label="Décision de l'instance",
        choices=PropositionReorientation.Issue.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez ce que l'instance a décidé."},
    )
    texte = forms.CharField(
        label="Termes de la décision",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Ce qui est retenu, modifié ou la raison du refus ; figure au compte rendu.",
        error_messages={"required": "Rédigez la décision telle qu'elle figurera au compte rendu."},
    )


# ---------------------------------------------------------------- structured schemes


class ActionTFPBForm(CompactRowForm, forms.ModelForm):
    montant_prevu = MontantField(label="Prévu")
    montant_realise = MontantField(label="Réalisé", required=False)

    class Meta:
        model = ActionTFPB
        fields = [
            "bailleur",
            "qpv",
            "axe",
            "libelle",
            "montant_prevu",
            "montant_realise",
            "commentaire",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bailleur"].queryset = Organisation.objects.filter(type="bailleur")
        self.fields["qpv"].queryset = Qpv.objects.filter(geographie=Qpv.Geographie.G2024)


ActionTFPBFormSet = forms.inlineformset_factory(
    DispositifConnexe, ActionTFPB, form=ActionTFPBForm, extra=1, can_delete=True
)


class PosteAdulteRelaisForm(CompactRowForm, forms.ModelForm):
    class Meta:
        model = PosteAdulteRelais
        fields = [
            "employeur",
            "qpv",
            "mission",
            "convention_debut",
            "convention_fin",
            "pourvu",
            "renouvellement",
        ]
        widgets = {"convention_debut": DATE_WIDGET, "convention_fin": DATE_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["qpv"].queryset = Qpv.objects.filter(geographie=Qpv.Geographie.G2024)


PosteAdulteRelaisFormSet = forms.inlineformset_factory(
    DispositifConnexe, PosteAdulteRelais, form=PosteAdulteRelaisForm, extra=1, can_delete=True
)


def scheme_choices(*names: str) -> dict:
    """The selects of the structured schemes' rows, computed once for all rows."""
    querysets = {
        "qpv": Qpv.objects.filter(geographie=Qpv.Geographie.G2024).order_by("nom"),
        "bailleur": Organisation.objects.filter(type="bailleur").order_by("nom"),
        "employeur": Organisation.objects.order_by("nom"),
    }
    return {name: model_choices(querysets[name]) for name in names}
