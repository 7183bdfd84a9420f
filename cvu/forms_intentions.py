"""Forms and the list filter of the fiches d'intention and the advice log (échanges)."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from core.forms import MontantField
from core.lists import FilterSet
from core.widgets import CheckboxFilterList

from .forms import ActionForm
from .models import AppelAProjets, Echange, FicheIntention, NoeudStrategie, Organisation
from .validators import normalise_siret

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class FicheIntentionFilterSet(FilterSet):
    search = django_filters.CharFilter(label="Porteur ou idée", method="filter_search")
    appel = django_filters.ModelChoiceFilter(
        label="Appel à projets", queryset=AppelAProjets.objects.all(), empty_label="Tous"
    )
    orientation = django_filters.ChoiceFilter(
        label="Orientation", choices=FicheIntention.Orientation.choices, empty_label="Toutes"
    )

    class Meta:
        model = FicheIntention
        fields = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(titre__icontains=value)
            | Q(porteur__nom__icontains=value)
            | Q(porteur__sigle__icontains=value)
        )


class FicheIntentionForm(forms.ModelForm):
    """A fiche; the porteur is an organisation of the list or a new one typed here."""

    porteur = forms.ModelChoiceField(
        label="Porteur existant",
        queryset=Organisation.objects.none(),
        required=False,
        help_text="Ou, s'il n'est pas encore dans Organisations, saisissez-le ci-dessous.",
    )
    nouveau_porteur_nom = forms.CharField(
        label="Nom du nouveau porteur", max_length=200, required=False
    )
    nouveau_porteur_type = forms.ChoiceField(
        label="Type du nouveau porteur",
        choices=[("", "---------"), *Organisation.Type.choices],
        required=False,
    )
    nouveau_porteur_siret = forms.CharField(
        label="SIRET ou SIREN du nouveau porteur (facultatif)", max_length=20, required=False
    )
    cout_estime = MontantField(label="Coût estimé (€)", required=False)

    class Meta:
        model = FicheIntention
        fields = [
            "contrat",
            "appel",
            "porteur",
            "titre",
            "description",
            "qpvs",
            "priorite",
            "cout_estime",
            "financeurs_envisages",
            "date_rencontre",
            "conseil",
            "orientation",
        ]
        widgets = {
            "qpvs": CheckboxFilterList(),
            "financeurs_envisages": CheckboxFilterList(),
            "date_rencontre": DATE,
            "description": forms.Textarea(attrs={"rows": 4}),
            "conseil": forms.Textarea(attrs={"rows": 4}),
        }

    # The action form's offer of QPVs: those of the contract's geography once it is known.
    _limit_qpvs_to_geography = ActionForm._limit_qpvs_to_geography
    _contrat = ActionForm._contrat
    _ticked_qpvs = ActionForm._ticked_qpvs

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.new_porteur: Organisation | None = None
        organisations = Organisation.objects.alphabetical()
        self.fields["porteur"].queryset = organisations
        # Funders are public bodies and the like: not the associations that carry projects
        # (one already ticked on this fiche stays offered).
        funders = ~Q(type=Organisation.Type.ASSOCIATION)
        if self.instance.pk:
            funders |= Q(pk__in=self.instance.financeurs_envisages.values("pk"))
        self.fields["financeurs_envisages"].queryset = organisations.filter(funders)
        self.fields["appel"].queryset = AppelAProjets.objects.select_related("contrat")
        self._limit_qpvs_to_geography()
        contrat = self._contrat()
        nodes = NoeudStrategie.objects.select_related("contrat")
        self.fields["priorite"].queryset = (
            nodes.filter(Q(contrat=contrat) | Q(pk=self.instance.priorite_id)) if contrat else nodes
        )
        # Field order: the new porteur's fields right under the list of existing ones.
        order = list(self.fields)
        for name in ("nouveau_porteur_nom", "nouveau_porteur_type", "nouveau_porteur_siret"):
            order.remove(name)
        at = order.index("porteur") + 1
        order[at:at] = ["nouveau_porteur_nom", "nouveau_porteur_type", "nouveau_porteur_siret"]
        self.order_fields(order)

    def clean(self):
        cleaned = super().clean()
        self._clean_porteur(cleaned)
        contrat = cleaned.get("contrat")
        if contrat:
            appel = cleaned.get("appel")
            if appel and appel.contrat_id != contrat.pk:
                self.add_error("appel", "Cet appel à projets relève d'un autre contrat.")
            priorite = cleaned.get("priorite")
            if priorite and priorite.contrat_id != contrat.pk:
                self.add_error("priorite", "Choisissez une priorité de ce contrat.")
            geographie = contrat.geographie
            others = [q for q in cleaned.get("qpvs") or [] if q.geographie != geographie]
            if others:
                names = ", ".join(f"« {q.nom} » ({q.geographie})" for q in others)
                self.add_error(
                    "qpvs",
                    f"Le contrat « {contrat.nom} » porte sur les QPV de la géographie "
                    f"{geographie} : décochez {names}.",
                )
        return cleaned

    def _clean_porteur(self, cleaned):
        existing = cleaned.get("porteur")
        nom = (cleaned.get("nouveau_porteur_nom") or "").strip()
        if existing and nom:
            self.add_error(
                None,
                "Choisissez un porteur existant ou saisissez le nom d'un nouveau porteur, pas "
                "les deux.",
            )
            return
        if not existing and not nom:
            if "porteur" not in self.errors:
                self.add_error(
                    None,
                    "Indiquez le porteur : choisissez-le parmi les organisations existantes, ou "
                    "saisissez le nom et le type d'un nouveau porteur.",
                )
            return
        if existing:
            return
        if Organisation.objects.filter(nom__iexact=nom).exists():
            self.add_error(
                "nouveau_porteur_nom",
                f"Une organisation s'appelle déjà « {nom} » : choisissez-la dans la liste des "
                "porteurs existants.",
            )
            return
        type_ = cleaned.get("nouveau_porteur_type")
        if not type_:
            self.add_error("nouveau_porteur_type", "Indiquez le type du nouveau porteur.")
            return
        organisation = Organisation(
            nom=nom, type=type_, siret=normalise_siret(cleaned.get("nouveau_porteur_siret", ""))
        )
        try:
            organisation.full_clean()
        except ValidationError as error:
            fields = {"nom": "nouveau_porteur_nom", "siret": "nouveau_porteur_siret"}
            for name, messages in error.message_dict.items():
                self.add_error(fields.get(name), messages)
            return
        self.new_porteur = organisation


class EchangeForm(forms.ModelForm):
    class Meta:
        model = Echange
        fields = [
            "date",
            "mode",
            "interlocuteurs",
            "intention",
            "conseil",
            "prochaine_etape",
            "date_prochaine_etape",
            "etape_faite",
        ]
        widgets = {
            "date": DATE,
            "date_prochaine_etape": DATE,
            "conseil": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.organisation = organisation
        self.fields["intention"].queryset = FicheIntention.objects.filter(porteur=organisation)
        self.fields["intention"].label_from_instance = lambda fiche: fiche.titre
        self.fields[
            "intention"
        ].help_text = "Facultatif : la fiche d'intention dont il a été question."

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_prochaine_etape") and not (cleaned.get("prochaine_etape") or ""):
            self.add_error(
                "prochaine_etape", "Indiquez la prochaine étape dont vous donnez la date."
            )
        return cleaned
