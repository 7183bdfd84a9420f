"""Forms of the annual report: start it, its DSU communes, a chapter, a consultation, the
approval and the publication. Crispy renders them (labels, help, errors in French)."""

from dateutil.relativedelta import relativedelta
from django import forms
from django.conf import settings
from django.utils import timezone

from core.texte import AIDE
from participation.models import ConseilCitoyen
from quartiers.models import Commune

from .annuel import communes_du_contrat
from .models import ChapitreRapport, Consultation

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CommunesDsuField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(
            label="Communes bénéficiaires de la DSU",
            required=False,
            help_text="Chacune a un chapitre sur l'emploi de sa dotation de solidarité urbaine.",
            **kwargs,
        )


class DemarrerForm(forms.Form):
    """The year of a contract's report and its DSU communes."""

    annee = forms.IntegerField(label="Année du rapport", min_value=1990, max_value=2100)
    communes_dsu = CommunesDsuField(queryset=Commune.objects.none())

    def __init__(self, *args, contrat, **kwargs):
        super().__init__(*args, **kwargs)
        self.contrat = contrat
        self.fields["communes_dsu"].queryset = communes_du_contrat(contrat)

    def clean_annee(self):
        annee = self.cleaned_data["annee"]
        if not self.contrat.annee_debut <= annee <= self.contrat.annee_fin:
            raise forms.ValidationError(
                f"Le contrat couvre les années {self.contrat.annee_debut} à "
                f"{self.contrat.annee_fin}."
            )
        if self.contrat.rapports_annuels.filter(annee=annee).exists():
            raise forms.ValidationError("Le rapport annuel de cette année existe déjà.")
        return annee


class CommunesDsuForm(forms.Form):
    communes_dsu = CommunesDsuField(queryset=Commune.objects.none())

    def __init__(self, *args, rapport, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["communes_dsu"].queryset = communes_du_contrat(rapport.contrat)


class ChapitreForm(forms.ModelForm):
    class Meta:
        model = ChapitreRapport
        fields = ["texte"]
        widgets = {"texte": forms.Textarea(attrs={"rows": 16})}
        help_texts = {"texte": AIDE}


class ConsultationForm(forms.ModelForm):
    """A council consulted on the draft; its opinion once received."""

    class Meta:
        model = Consultation
        fields = [
            "conseil_citoyen",
            "commune",
            "envoye_le",
            "echeance",
            "avis",
            "avis_recu_le",
            "texte",
            "fichier",
            "signataires",
            "signataires_publics",
        ]
        widgets = {
            "envoye_le": DATE,
            "echeance": DATE,
            "avis_recu_le": DATE,
            "texte": forms.Textarea(attrs={"rows": 5}),
            "signataires": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "conseil_citoyen": "Un conseil citoyen, ou bien un conseil municipal ci-dessous.",
            "texte": "Recopiez l'avis ou ses observations : ils figurent en annexe du rapport.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rapport = self.instance.rapport
        self.fields["conseil_citoyen"].queryset = ConseilCitoyen.objects.select_related(
            "commune"
        ).order_by("nom")
        self.fields["commune"].queryset = communes_du_contrat(rapport.contrat)
        self.fields["commune"].empty_label = "—"
        self.fields["conseil_citoyen"].empty_label = "—"
        if self.instance.pk is None:
            today = timezone.localdate()
            self.initial.setdefault("envoye_le", today)
            self.initial.setdefault("echeance", today + relativedelta(months=1))

    def clean_fichier(self):
        from cvu.services import check_upload

        upload = self.cleaned_data.get("fichier")
        if upload and hasattr(upload, "content_type"):  # a new upload, not the stored file
            check_upload(upload, max_size=settings.DOCUMENT_MAX_SIZE)
        return upload


class ApprobationForm(forms.Form):
    """The conseil communautaire's délibération and the follow-up given to each opinion with
    observations (one field per such consultation)."""

    date_approbation = forms.DateField(label="Date du conseil communautaire", widget=DATE)
    numero_deliberation = forms.CharField(label="N° de la délibération", max_length=50)

    def __init__(self, *args, rapport, **kwargs):
        super().__init__(*args, **kwargs)
        self.consultations = list(
            rapport.consultations.select_related("conseil_citoyen", "commune")
        )
        for consultation in self.consultations:
            self.fields[f"suite_{consultation.pk}"] = forms.CharField(
                label=f"Suite donnée à l'avis de {consultation.instance_nom}",
                required=False,
                initial=consultation.suite_donnee,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=(
                    f"Avis : {consultation.get_avis_display().lower()}. Obligatoire : le "
                    "conseil communautaire répond à ses observations."
                    if consultation.observations
                    else "Facultatif."
                ),
            )

    def suites(self) -> dict:
        return {c.pk: self.cleaned_data.get(f"suite_{c.pk}", "") for c in self.consultations}


class PublicationForm(forms.Form):
    publie_le = forms.DateField(label="Publié le", widget=DATE)
    lieu = forms.CharField(
        label="Lieu de publication",
        max_length=300,
        required=False,
        help_text="Par exemple l'adresse de la page du site de l'agglomération.",
    )
