"""Forms of the conventions: templates, establishing, re-editing, signatures."""

from django import forms
from django.conf import settings

from . import conventions
from .models import Convention, ModeleConvention

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ModeleConventionForm(forms.ModelForm):
    class Meta:
        model = ModeleConvention
        fields = ["nom", "type", "texte", "actif"]
        widgets = {"texte": forms.Textarea(attrs={"rows": 24})}
        # The model's "proposé" is unclear alone; the variables are listed beside the form.
        labels = {"actif": "Proposé à l'établissement des conventions"}
        help_texts = {
            "texte": "Variables : voir « Variables possibles ». Séparez les paragraphes par une ligne "
            "vide ; un paragraphe qui commence par « Article » prend sa première ligne pour titre.",
            "actif": "Seuls les modèles proposés sont offerts quand on établit une convention.",
        }

    def clean_texte(self):
        texte = self.cleaned_data["texte"]
        conventions.validate_template(texte)
        return texte


class ConventionEstablishForm(forms.ModelForm):
    modele = forms.ModelChoiceField(
        label="Modèle",
        queryset=ModeleConvention.objects.filter(actif=True),
        empty_label=None,
        help_text="Annuel ou pluriannuel (CPO) selon la période du dossier, par défaut.",
    )

    class Meta:
        model = Convention
        fields = ["numero", "reference_decision", "date_decision"]
        widgets = {"date_decision": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reference_decision"].required = True
        self.fields["date_decision"].required = True


class ConventionUpdateForm(forms.ModelForm):
    refaire = forms.BooleanField(
        label="Refaire le texte à partir d'un modèle",
        required=False,
        help_text="Le texte ci-dessous est alors remplacé ; le montant et les années suivent le "
        "vote actuel du dossier.",
    )
    modele = forms.ModelChoiceField(
        label="Modèle",
        queryset=ModeleConvention.objects.filter(actif=True),
        required=False,
        help_text="Utilisé seulement si vous refaites le texte.",
    )

    class Meta:
        model = Convention
        fields = ["numero", "reference_decision", "date_decision", "texte"]
        widgets = {"date_decision": DATE, "texte": forms.Textarea(attrs={"rows": 24})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reference_decision"].required = True
        self.fields["date_decision"].required = True
        self.fields["texte"].required = False
        self.fields["modele"].initial = self.instance.modele_id

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("refaire") and not cleaned.get("modele"):
            self.add_error("modele", "Choisissez le modèle dont le texte est repris.")
        if not cleaned.get("refaire") and not (cleaned.get("texte") or "").strip():
            self.add_error("texte", "Le texte de la convention ne peut pas être vide.")
        return cleaned


class ConventionSignForm(forms.ModelForm):
    fichier = forms.FileField(
        label="Exemplaire signé",
        required=False,
        help_text="PDF (ou image) de la convention signée par les deux parties, "
        f"{settings.DOCUMENT_MAX_SIZE // 1_000_000} Mo au plus.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )

    class Meta:
        model = Convention
        fields = ["date_signature_porteur", "date_signature_collectivite"]
        widgets = {"date_signature_porteur": DATE, "date_signature_collectivite": DATE}

    def clean_fichier(self):
        from .services import check_upload

        upload = self.cleaned_data.get("fichier")
        self.content_type = ""
        if upload:
            self.content_type = check_upload(upload, max_size=settings.DOCUMENT_MAX_SIZE)
        return upload
