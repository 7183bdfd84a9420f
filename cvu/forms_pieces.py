"""The form that adds a piece to a porteur's administrative file."""

from django import forms
from django.conf import settings

from .models import PieceOrganisation

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PieceForm(forms.ModelForm):
    """Type, dates and file; the file is checked like an action's documents by the view."""

    fichier = forms.FileField(
        label="Fichier", help_text="PDF, Word, Excel, OpenDocument, PNG ou JPEG."
    )

    class Meta:
        model = PieceOrganisation
        fields = ["type", "date_piece", "date_expiration"]
        widgets = {"date_piece": DATE_WIDGET, "date_expiration": DATE_WIDGET}
        help_texts = {
            "date_piece": "Date de signature, d'émission ou, pour des comptes, de clôture de "
            "l'exercice (31/12/2024 pour les comptes 2024).",
            "date_expiration": "Laissée vide, elle suit le type de pièce : comptes N-1 → 31 "
            "décembre de l'année suivant l'exercice ; liste des dirigeants → un an après sa "
            "date ; contrat d'engagement républicain → 31 décembre de l'année de signature ; "
            "statuts, RIB et autres pièces → valables jusqu'à leur remplacement.",
        }

    field_order = ["type", "fichier", "date_piece", "date_expiration"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_size = settings.DOCUMENT_MAX_SIZE
        self.fields["fichier"].help_text += f" {self.max_size // 1_000_000} Mo au plus."
