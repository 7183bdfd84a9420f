from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.html import format_html

from core.forms import CompactRowForm, FrenchDecimalField, MontantField, model_choices
from core.templatetags.formats import euros
from core.widgets import CheckboxFilterList
from quartiers.models import Qpv

from . import rights
from .models import (
    Action,
    AppelAProjets,
    Contact,
    ContratDeVille,
    Financement,
    IndicateurAction,
    LigneFinancement,
    NoeudStrategie,
    Organisation,
    ProgrammeActions,
)
from .validators import normalise_siret

READ_ONLY_HELP = {
    "date_limite_bilan": "Seul le chef de service change la date limite du bilan (dérogation).",
    "programme": "Ce programme est validé : seul le chef de service y place ou en retire une "
    "action.",
}


def funder_choices(form_class) -> dict:
    """The options of a formset row's funder and funding line, computed once for all rows."""
    choices = {"financeur": model_choices(Organisation.objects.alphabetical())}
    if "ligne" in form_class.base_fields:
        choices["ligne"] = model_choices(LigneFinancement.objects.select_related("financeur"))
    return choices


class ActionForm(forms.ModelForm):
    cout_total = MontantField(label="Coût total (€)")
    # When the form was opened: a save from a stale page is refused (see services.action_save).
    loaded_at = forms.DateTimeField(widget=forms.HiddenInput, required=False)
    # Asked from the chef de service when the bilan deadline moves; kept with their name.
    motif_echeance = forms.CharField(
        label="Motif du changement de date limite",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Obligatoire pour changer la date limite du bilan : il est gardé avec votre "
        "nom et la date.",
    )

    class Meta:
        model = Action
        fields = [
            "titre",
            "contrat",
            "programme",
            "porteur",
            "annee",
            "annee_fin",
            "appel",
            "statut",
            "date_limite_bilan",
            "numero_dauphin",
            "referent",
            "qpvs",
            "objectifs",
            "tags",
            "theme",
            "public_vise",
            "cout_total",
            "description",
            "resultats_attendus",
        ]
        widgets = {
            "date_limite_bilan": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "qpvs": CheckboxFilterList(),
            "objectifs": CheckboxFilterList(),
            "tags": forms.CheckboxSelectMultiple,
            "description": forms.Textarea(attrs={"rows": 4}),
            "resultats_attendus": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        action = self.instance
        self._limit_qpvs_to_geography()
        self.fields["objectifs"].queryset = NoeudStrategie.objects.filter(
            niveau__in=[NoeudStrategie.Niveau.OBJECTIF, NoeudStrategie.Niveau.ORIENTATION]
        ).select_related("contrat")
        self.fields["objectifs"].label_from_instance = lambda node: (
            f"{node.contrat.annee_debut} · {node}"
        )
        self.fields["programme"].queryset = ProgrammeActions.objects.filter(
            Q(pk__in=rights.programmes_open_to(user).values("pk")) | Q(pk=action.programme_id)
        ).select_related("contrat")
        self.fields["referent"].queryset = get_user_model().objects.filter(
            Q(pk__in=rights.referents_open_to(user).values("pk")) | Q(pk=action.referent_id)
        )
        self.fields["porteur"].queryset = Organisation.objects.alphabetical()
        if self.instance.pk:
            self.fields["loaded_at"].initial = self.instance.updated_at.isoformat()
        self.fields["appel"].queryset = AppelAProjets.objects.select_related("contrat")
        if self.instance.appel_id:
            # A dossier of a call moves through its cycle, from the dossier's page only.
            self.fields["statut"].disabled = True
            self.fields["statut"].help_text = (
                "Le statut d'un dossier d'appel à projets suit son cycle : changez-le depuis la "
                "page du dossier."
            )
            self.fields["appel"].disabled = True
        else:
            allowed = rights.statuts_open_to(user, action)
            self.fields["statut"].choices = [
                choice for choice in Action.Statut.choices if choice[0] in allowed
            ]
        for name in ("programme", "date_limite_bilan", "referent", "statut"):
            if not rights.action_field_editable(user, action, name):
                self.fields[name].disabled = True
                if name in READ_ONLY_HELP:
                    self.fields[name].help_text = READ_ONLY_HELP[name]
        if not (action.pk and rights.action_field_editable(user, action, "date_limite_bilan")):
            del self.fields["motif_echeance"]

    def _limit_qpvs_to_geography(self):
        """Offers the QPVs of the contract's geography (cvu.geography) once the contract is known.

        The QPVs already ticked (saved, or posted) stay in the list, so that clean() names one of
        the other geography instead of a bare "invalid choice", and the person can untick it.
        Without a contract yet (a new action), both geographies are offered, labelled by year,
        and clean() decides once the contract is posted."""
        field = self.fields["qpvs"]
        queryset = Qpv.objects.order_by("-geographie", "nom")
        contrat = self._contrat()
        if contrat is not None:
            ticked = self._ticked_qpvs()
            field.queryset = queryset.filter(Q(geographie=contrat.geographie) | Q(pk__in=ticked))
            field.help_text = f"QPV de la géographie {contrat.geographie}, celle du contrat."
        else:
            field.queryset = queryset
            field.help_text = (
                "Le contrat fixe la géographie des QPV : 2024 pour un contrat commencé en 2024 "
                "ou après, 2015 avant."
            )

    def _contrat(self) -> ContratDeVille | None:
        """The posted contract when the form is bound, else the action's."""
        if self.is_bound:
            try:
                return self.fields["contrat"].clean(self.data.get(self.add_prefix("contrat")))
            except forms.ValidationError:
                return None
        return self.instance.contrat if self.instance.contrat_id else None

    def _ticked_qpvs(self) -> list[str]:
        if self.is_bound:
            field = self.fields["qpvs"]
            values = field.widget.value_from_datadict(
                self.data, self.files, self.add_prefix("qpvs")
            )
            return [value for value in values or [] if str(value).isdigit()]
        return list(self.instance.qpvs.values_list("pk", flat=True)) if self.instance.pk else []

    def clean(self):
        cleaned = super().clean()
        if (
            "motif_echeance" in self.fields
            and "date_limite_bilan" in self.changed_data
            and not cleaned.get("motif_echeance", "").strip()
        ):
            self.add_error(
                "motif_echeance",
                "Indiquez le motif du changement de date limite : il est gardé comme une "
                "dérogation.",
            )
        contrat, programme = cleaned.get("contrat"), cleaned.get("programme")
        if contrat and programme and programme.contrat_id != contrat.pk:
            self.add_error("programme", "Ce programme relève d'un autre contrat.")
        if contrat:
            geographie = contrat.geographie
            others = [qpv for qpv in cleaned.get("qpvs") or [] if qpv.geographie != geographie]
            if others:
                names = ", ".join(f"« {qpv.nom} » ({qpv.geographie})" for qpv in others)
                self.add_error(
                    "qpvs",
                    f"Le contrat « {contrat.nom} » porte sur les QPV de la géographie "
                    f"{geographie} : décochez {names}.",
                )
        objectifs = cleaned.get("objectifs") or []
        if contrat and any(o.contrat_id != contrat.pk for o in objectifs):
            self.add_error("objectifs", "Choisissez des objectifs du contrat de l'action.")
        annee = cleaned.get("annee")
        appel = cleaned.get("appel")
        if appel and not self.instance.appel_id:
            if contrat and appel.contrat_id != contrat.pk:
                self.add_error("appel", "Cet appel à projets relève d'un autre contrat.")
            elif annee and appel.annee != annee:
                self.add_error("appel", f"Cet appel à projets porte sur l'exercice {appel.annee}.")
            elif cleaned.get("statut") != Action.Statut.DEPOSE:
                self.add_error(
                    "statut", "Un dossier rattaché à un appel à projets commence « Déposé »."
                )
        if contrat and annee and not contrat.annee_debut <= annee <= contrat.annee_fin:
            self.add_error(
                "annee",
                f"L'exercice doit être compris dans la période du contrat "
                f"({contrat.annee_debut}–{contrat.annee_fin}).",
            )
        return cleaned


class PaidAmountWidget(forms.Widget):
    """A line's paid amount as text with a link to the dossier's payments, never an input:
    paid amounts come only from payments (cvu.payments), whatever is posted."""

    link = ""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = attrs or {}
        html = format_html(
            '<span class="form-control-plaintext form-control-sm text-nowrap" id="{}">{}</span>',
            attrs.get("id", ""),
            euros(value if value not in (None, "") else 0),
        )
        if self.link:
            html += format_html('<a class="small" href="{}">voir les versements</a>', self.link)
        return html

    def value_from_datadict(self, data, files, name):
        return None


class FinancementForm(CompactRowForm, forms.ModelForm):
    montant_demande = MontantField(label="Demandé (€)")
    montant_propose = MontantField(label="Proposé (€)", required=False)
    montant_vote = MontantField(label="Voté (€)", required=False)
    # Shown, never saved: not among Meta.fields, disabled, its widget reads nothing posted.
    montant_verse = forms.DecimalField(
        label="Versé (€)", required=False, disabled=True, widget=PaidAmountWidget
    )

    class Meta:
        model = Financement
        fields = [
            "financeur",
            "ligne",
            "annee",
            "montant_demande",
            "montant_propose",
            "montant_vote",
        ]

    def __init__(self, *args, user, action, **kwargs):
        super().__init__(*args, **kwargs)
        # Disabled fields are shown read-only and keep their saved value whatever is posted.
        for name, field in self.fields.items():
            if not rights.financement_field_editable(user, action, name):
                field.disabled = True
        paid = self.fields["montant_verse"]
        paid.initial = self.instance.montant_verse
        if action.pk and self.instance.pk:
            paid.widget.link = f"{action.get_absolute_url()}#versements-{self.instance.pk}"

    def clean(self):
        cleaned = super().clean()
        paid = self.instance.montant_verse
        vote = cleaned.get("montant_vote")
        if paid and "montant_vote" in self.changed_data and (vote is None or vote < paid):
            self.add_error(
                "montant_vote",
                f"{euros(paid)} ont déjà été versés sur cette ligne : le montant voté ne peut "
                "pas être inférieur.",
            )
        return cleaned


class BaseFinancementFormSet(forms.BaseInlineFormSet):
    """The financing plan as the user may change it: frozen lines cannot be added or deleted."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.form_kwargs = {
            **self.form_kwargs,
            "user": user,
            "action": self.instance,
            "choices": funder_choices(self.form),
        }
        self.open = rights.financement_plan_open(user, self.instance)
        if not self.open:
            self.extra = 0
            self.edit_only = True  # Lines posted anyway are not created.

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields and not (
            self.open
            if form.instance.pk is None
            else rights.may_delete_financement(self.user, form.instance)
        ):
            form.fields["DELETE"].disabled = True


FinancementFormSet = forms.inlineformset_factory(
    Action,
    Financement,
    form=FinancementForm,
    formset=BaseFinancementFormSet,
    extra=1,
    can_delete=True,
)


class IndicateurActionForm(CompactRowForm, forms.ModelForm):
    cible = FrenchDecimalField(label="Cible", max_digits=12, decimal_places=2, required=False)
    realise = FrenchDecimalField(label="Réalisé", max_digits=12, decimal_places=2, required=False)

    class Meta:
        model = IndicateurAction
        fields = ["libelle", "cible", "realise", "unite"]


IndicateurFormSet = forms.inlineformset_factory(
    Action, IndicateurAction, form=IndicateurActionForm, extra=1, can_delete=True
)


class DocumentForm(forms.Form):
    fichier = forms.FileField(
        label="Document",
        help_text="PDF, Word, Excel, OpenDocument, PNG ou JPEG.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_size = settings.DOCUMENT_MAX_SIZE
        self.fields["fichier"].help_text += f" {self.max_size // 1_000_000} Mo au plus."


class OrganisationForm(forms.ModelForm):
    # Typed with spaces or in lower case; normalised before the model's checks.
    siret = forms.CharField(
        label="SIRET ou SIREN",
        max_length=20,
        required=False,
        help_text="9 chiffres (SIREN) ou 14 chiffres (SIRET), espaces acceptés.",
    )
    rna = forms.CharField(
        label="Numéro RNA",
        max_length=12,
        required=False,
        help_text="Pour une association : W suivi de 9 chiffres.",
    )
    budget_annuel = MontantField(
        label="Budget annuel déclaré (€)",
        required=False,
        help_text="Total des produits du dernier budget ou compte connu du porteur : sert à "
        "mesurer la part de l'EPCI et de l'État dans ses ressources.",
    )

    class Meta:
        model = Organisation
        fields = [
            "nom",
            "sigle",
            "type",
            "siret",
            "rna",
            "adresse",
            "code_postal",
            "ville",
            "email",
            "telephone",
            "notes",
            "budget_annuel",
            "budget_annee",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def clean_siret(self):
        return normalise_siret(self.cleaned_data["siret"])

    def clean_rna(self):
        return self.cleaned_data["rna"].strip().upper()


class ContactForm(CompactRowForm, forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["prenom", "nom", "fonction", "email", "telephone"]


ContactFormSet = forms.inlineformset_factory(
    Organisation, Contact, form=ContactForm, extra=1, can_delete=True
)


class ProgrammeForm(forms.ModelForm):
    class Meta:
        model = ProgrammeActions
        fields = [
            "contrat",
            "nom",
            "type",
            "annee_debut",
            "annee_fin",
            "secteur",
            "communes",
            "notes",
        ]
        widgets = {
            "communes": CheckboxFilterList(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
