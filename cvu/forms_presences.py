from django import forms

from core.widgets import CheckboxFilterList

from .forms_gouvernance import ContactsChoiceField
from .models import Contact


class AutresPresentsForm(forms.Form):
    """People who came to a meeting without an invitation, taken from the contacts."""

    autres = ContactsChoiceField(
        label="Autres présents (non invités)",
        queryset=Contact.objects.none(),
        required=False,
        help_text="Ils seront enregistrés comme présents et signalés « non invités ».",
        widget=CheckboxFilterList(),
    )

    def __init__(self, *args, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["autres"].queryset = queryset
