"""Forms of payments and clawbacks (cvu.payments does the checks against the voted amount)."""

from django import forms
from django.utils import timezone

from core.forms import MontantField

from .models import Financement, Reversement, Versement
from .payments import Tranche

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
N = Versement.Nature
C = Versement.Condition
R = Reversement.Statut


class ScheduleForm(forms.Form):
    """The proposed schedule, editable before it is saved: an advance and a balance."""

    avance_montant = MontantField(label="Avance (€)", required=False)
    avance_condition = forms.ChoiceField(
        label="Avance versée",
        choices=[(C.SIGNATURE, C.SIGNATURE.label), (C.NOTIFICATION, C.NOTIFICATION.label)],
    )
    avance_date_prevue = forms.DateField(
        label="Date prévue de l'avance", required=False, widget=DATE
    )
    solde_montant = MontantField(
        label="Solde (€)", required=False, help_text="Versé après réception du bilan."
    )
    solde_date_prevue = forms.DateField(label="Date prévue du solde", required=False, widget=DATE)

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("avance_montant") or cleaned.get("solde_montant")):
            raise forms.ValidationError("Indiquez le montant de l'avance, du solde, ou des deux.")
        return cleaned

    def tranches(self) -> list[Tranche]:
        data = self.cleaned_data
        tranches = []
        if data.get("avance_montant"):
            tranches.append(
                Tranche(
                    nature=N.AVANCE,
                    condition=data["avance_condition"],
                    montant=data["avance_montant"],
                    date_prevue=data.get("avance_date_prevue"),
                )
            )
        if data.get("solde_montant"):
            tranches.append(
                Tranche(
                    nature=N.SOLDE,
                    condition=C.BILAN,
                    montant=data["solde_montant"],
                    date_prevue=data.get("solde_date_prevue"),
                )
            )
        return tranches


class PaymentForm(forms.Form):
    """A payment made: its date, amount and mandat number (and its nature when not planned)."""

    nature = forms.ChoiceField(
        label="Nature",
        choices=[
            (N.AVANCE, N.AVANCE.label),
            (N.ACOMPTE, N.ACOMPTE.label),
            (N.SOLDE, N.SOLDE.label),
        ],
        initial=N.ACOMPTE,
    )
    date_versement = forms.DateField(label="Versé le", widget=DATE)
    montant = MontantField(label="Montant versé (€)")
    numero_mandat = forms.CharField(
        label="N° de mandat", max_length=50, help_text="La référence comptable du paiement."
    )

    def __init__(self, *args, planned: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if planned:  # a planned instalment keeps its nature
            del self.fields["nature"]


class ReversementForm(forms.Form):
    montant = MontantField(label="Montant à reverser (€)")
    motif = forms.CharField(label="Motif", widget=forms.Textarea(attrs={"rows": 3}))
    date_demande = forms.DateField(label="Demandé le", widget=DATE)


class ReversementUpdateForm(forms.Form):
    statut = forms.ChoiceField(label="Nouveau statut")
    numero_titre = forms.CharField(
        label="N° du titre de recette",
        max_length=50,
        required=False,
        help_text="Requis pour « Titre de recette émis ».",
    )
    date_recouvrement = forms.DateField(
        label="Recouvré le", required=False, widget=DATE, help_text="Requis pour « Recouvré »."
    )

    def __init__(self, *args, steps, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["statut"].choices = [(s, R(s).label) for s in R.values if s in steps]


class ActeForm(forms.ModelForm):
    """The funder's formal act granting a line's voted amount: all three parts, or none."""

    class Meta:
        model = Financement
        fields = ["acte_type", "acte_numero", "acte_date"]
        widgets = {"acte_date": DATE}

    def clean(self):
        cleaned = super().clean()
        parts = [cleaned.get(name) for name in self.Meta.fields]
        if any(parts) and not all(parts):
            for name, value in zip(self.Meta.fields, parts, strict=True):
                if not value:
                    self.add_error(name, "Indiquez le type, le numéro et la date de l'acte.")
        acte_date = cleaned.get("acte_date")
        if acte_date and acte_date > timezone.localdate():
            self.add_error("acte_date", "La date de l'acte ne peut pas être dans le futur.")
        return cleaned
