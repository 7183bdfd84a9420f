import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q

from core.lists import FilterSet
from core.widgets import CheckboxFilterList
from quartiers.models import Commune, Qpv, Secteur

from . import figures
from .models import (
    Action,
    AppelAProjets,
    ContratDeVille,
    DispositifConnexe,
    EngagementSignataire,
    Financement,
    Instance,
    NoeudStrategie,
    Organisation,
    ProgrammeActions,
    PropositionReorientation,
    Reunion,
    SuiteADonner,
    Tag,
    TypeInstance,
)


def _descendants(node: NoeudStrategie) -> list[int]:
    """The node and every node below it (the tree is small: a few dozen nodes)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in NoeudStrategie.objects.filter(contrat_id=node.contrat_id).values_list(
        "pk", "parent_id"
    ):
        children.setdefault(parent_id, []).append(pk)
    found, todo = [], [node.pk]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


class ActionFilterSet(FilterSet):
    search = django_filters.CharFilter(label="Recherche", method="filter_search")
    contrat = django_filters.ModelChoiceFilter(
        label="Contrat", queryset=ContratDeVille.objects.all(), empty_label="Tous"
    )
    annee = django_filters.NumberFilter(label="Exercice", method="filter_annee")
    commune = django_filters.ModelChoiceFilter(
        label="Commune",
        field_name="qpvs__communes",
        queryset=Commune.objects.filter(qpvs__isnull=False).distinct(),
        empty_label="Toutes",
        distinct=True,
    )
    qpv = django_filters.ModelChoiceFilter(
        label="QPV", field_name="qpvs", queryset=Qpv.objects.all(), empty_label="Tous"
    )
    objectif = django_filters.ModelChoiceFilter(
        label="Axe ou objectif",
        queryset=NoeudStrategie.objects.select_related("contrat"),
        method="filter_objectif",
        empty_label="Tous",
    )
    tag = django_filters.ModelChoiceFilter(
        label="Thématique", field_name="tags", queryset=Tag.objects.all(), empty_label="Toutes"
    )
    statut = django_filters.MultipleChoiceFilter(
        label="Statut", choices=Action.Statut.choices, widget=CheckboxFilterList(menu=True)
    )
    porteur = django_filters.ModelChoiceFilter(
        label="Porteur",
        queryset=Organisation.objects.only("nom", "sigle"),
        empty_label="Tous",
    )
    financeur = django_filters.ModelChoiceFilter(
        label="Financeur",
        # EXISTS probes the funder index once per organisation: its cost follows the number of
        # organisations, not of financing lines (a join + DISTINCT read them all).
        queryset=Organisation.objects.filter(
            Exists(Financement.objects.filter(financeur=OuterRef("pk")))
        ).only("nom", "sigle"),
        empty_label="Tous",
        method="filter_financeur",
    )
    referent = django_filters.ModelChoiceFilter(
        label="Référent",
        queryset=get_user_model().objects.filter(role="chef_projet"),
        empty_label="Tous",
    )
    appel = django_filters.ModelChoiceFilter(
        label="Appel à projets", queryset=AppelAProjets.objects.all(), empty_label="Tous"
    )
    bilan = django_filters.ChoiceFilter(
        label="Bilan",
        choices=[("en_retard", "En retard"), ("attendu", "Attendu, dans les délais")],
        empty_label="Tous",
        method="filter_bilan",
    )
    secteur = django_filters.ModelChoiceFilter(
        label="Secteur",
        field_name="qpvs__communes__secteur",
        queryset=Secteur.objects.all(),
        empty_label="Tous",
        distinct=True,
    )
    ordre = django_filters.OrderingFilter(
        label="Trier par",
        fields=[
            ("titre", "titre"),
            ("annee", "annee"),
            ("porteur__nom", "porteur"),
            ("statut", "statut"),
            ("total_demande", "demande"),
            ("total_vote", "vote"),
        ],
        field_labels={
            "titre": "Intitulé",
            "annee": "Exercice",
            "porteur__nom": "Porteur",
            "statut": "Statut",
            "total_demande": "Montant demandé",
            "total_vote": "Montant voté",
        },
    )

    class Meta:
        model = Action
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_qpvs_to_geography()

    def _limit_qpvs_to_geography(self):
        """Once a contract is chosen, the QPV choices are those of its geography (cvu.geography).

        The QPV already chosen stays a valid choice: a list reached with a QPV of the other
        geography then shows no row, rather than quietly dropping the QPV and showing them all."""
        value = (self.data or {}).get("contrat")
        contrat = ContratDeVille.objects.filter(pk=value).first() if str(value).isdigit() else None
        if contrat is None:
            return
        geographie = Q(geographie=contrat.geographie)
        chosen = (self.data or {}).get("qpv")
        if str(chosen).isdigit():
            geographie |= Q(pk=chosen)
        self.filters["qpv"].queryset = Qpv.objects.filter(geographie)

    def _year(self) -> int | None:
        value = self.form.cleaned_data.get("annee")
        return None if value is None else int(value)

    def filter_queryset(self, queryset):
        # Amounts follow the year and funder filters (cvu.figures): a list reached from a
        # funder's row of the dashboard totals that funder's lines of that year, like the row.
        queryset = figures.with_amounts(
            queryset, annee=self._year(), financeur=self.form.cleaned_data.get("financeur")
        )
        return super().filter_queryset(queryset)

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(titre__icontains=value)
            | Q(porteur__nom__icontains=value)
            | Q(porteur__sigle__icontains=value)
            | Q(numero_dauphin__icontains=value)
        )

    def filter_annee(self, queryset, name, value):
        # A multi-year action counts in every year of its period, and in a year it has a line.
        return figures.of_year(queryset, int(value))

    def filter_financeur(self, queryset, name, value):
        return queryset.filter(
            pk__in=figures.lines(Action.objects.all(), annee=self._year(), financeur=value).values(
                "action_id"
            )
        )

    def filter_objectif(self, queryset, name, value):
        return queryset.filter(
            pk__in=Action.objectifs.through.objects.filter(
                noeudstrategie_id__in=_descendants(value)
            ).values("action_id")
        )

    def filter_bilan(self, queryset, name, value):
        if value == "en_retard":
            return queryset.bilan_en_retard()
        # "Attendu, dans les délais": a dossier whose deadline is not set yet is in neither.
        return queryset.bilan_dans_les_delais().filter(date_limite_bilan__isnull=False)


class OrganisationFilterSet(FilterSet):
    search = django_filters.CharFilter(label="Recherche", method="filter_search")
    type = django_filters.ChoiceFilter(
        label="Type", choices=Organisation.Type.choices, empty_label="Tous"
    )
    role = django_filters.ChoiceFilter(
        label="Rôle",
        choices=[("porteur", "Porteur de projet"), ("financeur", "Financeur")],
        method="filter_role",
        empty_label="Tous",
    )

    class Meta:
        model = Organisation
        fields = []

    def filter_search(self, queryset, name, value):
        digits = value.replace(" ", "")
        return queryset.filter(
            Q(nom__icontains=value)
            | Q(sigle__icontains=value)
            | Q(siret__startswith=digits)
            | Q(ville__icontains=value)
        )

    def filter_role(self, queryset, name, value):
        # pk__in rather than a join: no duplicate rows to remove with DISTINCT.
        if value == "porteur":
            return queryset.filter(pk__in=Action.objects.values("porteur_id"))
        return queryset.filter(pk__in=Financement.objects.values("financeur_id"))


class AppelFilterSet(FilterSet):
    search = django_filters.CharFilter(label="Recherche", field_name="nom", lookup_expr="icontains")
    contrat = django_filters.ModelChoiceFilter(
        label="Contrat", queryset=ContratDeVille.objects.all(), empty_label="Tous"
    )
    annee = django_filters.NumberFilter(label="Exercice")
    statut = django_filters.ChoiceFilter(
        label="Statut", choices=AppelAProjets.Statut.choices, empty_label="Tous"
    )

    class Meta:
        model = AppelAProjets
        fields = []


class ProgrammeFilterSet(FilterSet):
    contrat = django_filters.ModelChoiceFilter(
        label="Contrat", queryset=ContratDeVille.objects.all(), empty_label="Tous"
    )
    annee = django_filters.NumberFilter(label="Année", method="filter_annee")
    secteur = django_filters.ModelChoiceFilter(
        label="Secteur", queryset=Secteur.objects.all(), empty_label="Tous"
    )
    statut = django_filters.ChoiceFilter(
        label="Statut", choices=ProgrammeActions.Statut.choices, empty_label="Tous"
    )

    class Meta:
        model = ProgrammeActions
        fields = []

    def filter_annee(self, queryset, name, value):
        year = int(value)
        return queryset.filter(Q(annee_debut=year) | Q(annee_debut__lte=year, annee_fin__gte=year))


class InstanceFilterSet(FilterSet):
    search = django_filters.CharFilter(label="Recherche", field_name="nom", lookup_expr="icontains")
    type = django_filters.ModelChoiceFilter(
        label="Type", queryset=TypeInstance.objects.all(), empty_label="Tous"
    )
    echelle = django_filters.ChoiceFilter(
        label="Échelle", choices=Instance.Echelle.choices, empty_label="Toutes"
    )
    commune = django_filters.ModelChoiceFilter(
        label="Commune",
        field_name="communes",
        queryset=Commune.objects.filter(instances__isnull=False).distinct(),
        empty_label="Toutes",
    )

    class Meta:
        model = Instance
        fields = []


class SuiteFilterSet(FilterSet):
    responsable = django_filters.ModelChoiceFilter(
        label="Responsable",
        queryset=get_user_model().objects.filter(
            Exists(SuiteADonner.objects.filter(responsable=OuterRef("pk")))
        ),
        empty_label="Tous",
    )
    statut = django_filters.MultipleChoiceFilter(
        label="Statut", choices=SuiteADonner.Statut.choices, widget=CheckboxFilterList(menu=True)
    )
    instance = django_filters.ModelChoiceFilter(
        label="Instance",
        field_name="reunion__instance",
        queryset=Instance.objects.all(),
        empty_label="Toutes",
    )
    echeance_avant = django_filters.DateFilter(
        label="Échéance avant le",
        field_name="echeance",
        lookup_expr="lte",
        widget=django_filters.widgets.forms.DateInput(attrs={"type": "date"}),
    )
    en_retard = django_filters.BooleanFilter(
        label="En retard seulement",
        method="filter_en_retard",
        widget=django_filters.widgets.forms.CheckboxInput,
    )

    class Meta:
        model = SuiteADonner
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        if user is not None and user.is_authenticated:
            # "Mes suites" must be a valid choice before the user is given a first follow-up.
            self.filters["responsable"].queryset = (
                get_user_model().objects.filter(Q(suites__isnull=False) | Q(pk=user.pk)).distinct()
            )

    def filter_en_retard(self, queryset, name, value):
        return queryset.overdue() if value else queryset


class ReunionFilterSet(FilterSet):
    type = django_filters.ModelChoiceFilter(
        label="Type d'instance",
        field_name="instance__type",
        queryset=TypeInstance.objects.all(),
        empty_label="Tous",
    )
    commune = django_filters.ModelChoiceFilter(
        label="Commune",
        field_name="instance__communes",
        queryset=Commune.objects.filter(instances__isnull=False).distinct(),
        empty_label="Toutes",
    )
    instance = django_filters.ModelChoiceFilter(
        label="Instance", queryset=Instance.objects.all(), empty_label="Toutes"
    )
    statut = django_filters.ChoiceFilter(
        label="Statut", choices=Reunion.Statut.choices, empty_label="Tous"
    )

    class Meta:
        model = Reunion
        fields = []


class DispositifFilterSet(FilterSet):
    search = django_filters.CharFilter(label="Recherche", field_name="nom", lookup_expr="icontains")
    type = django_filters.ChoiceFilter(
        label="Type", choices=DispositifConnexe.Type.choices, empty_label="Tous"
    )
    commune = django_filters.ModelChoiceFilter(
        label="Commune",
        field_name="communes",
        queryset=Commune.objects.filter(dispositifs__isnull=False).distinct(),
        empty_label="Toutes",
    )

    class Meta:
        model = DispositifConnexe
        fields = []


class DossierFilterSet(FilterSet):
    """The dossiers of a call's year on the call page: search, status, those without referent."""

    search = django_filters.CharFilter(label="Recherche", method="filter_search")
    statut = django_filters.ChoiceFilter(
        label="Statut", choices=Action.Statut.choices, empty_label="Tous"
    )
    referent = django_filters.ChoiceFilter(
        label="Référent",
        choices=[("aucun", "Sans référent")],
        empty_label="Tous",
        method="filter_referent",
    )

    class Meta:
        model = Action
        fields = []

    def __init__(self, *args, appel, **kwargs):
        self.appel = appel
        super().__init__(*args, **kwargs)

    filter_search = ActionFilterSet.filter_search

    def filter_referent(self, queryset, name, value):
        # Only the call's own dossiers get a referent here; those outside it keep theirs.
        return queryset.filter(appel=self.appel, referent__isnull=True)


class PropositionFilterSet(FilterSet):
    """Proposals by state (in preparation, on an agenda, or the meeting's outcome)."""

    ETATS = [
        ("preparation", "En préparation"),
        ("inscrite", "Inscrite à l'ordre du jour"),
        *PropositionReorientation.Issue.choices,
    ]

    search = django_filters.CharFilter(
        label="Recherche", field_name="objet", lookup_expr="icontains"
    )
    etat = django_filters.ChoiceFilter(
        label="État", choices=ETATS, method="filter_etat", empty_label="Tous"
    )
    auteur = django_filters.ModelChoiceFilter(
        label="Auteur",
        queryset=get_user_model().objects.filter(
            Exists(PropositionReorientation.objects.filter(auteur=OuterRef("pk")))
        ),
        empty_label="Tous",
    )
    qpv = django_filters.ModelChoiceFilter(
        label="Quartier",
        field_name="qpvs",
        queryset=Qpv.objects.filter(propositions__isnull=False).distinct(),
        empty_label="Tous",
    )

    class Meta:
        model = PropositionReorientation
        fields = []

    def filter_etat(self, queryset, name, value):
        if value == "preparation":
            return queryset.filter(issue="", point__isnull=True)
        if value == "inscrite":
            return queryset.filter(issue="", point__isnull=False)
        return queryset.filter(issue=value)


class EngagementFilterSet(FilterSet):
    """A contract's commitments by signatory, state, and those due for review."""

    signataire = django_filters.ModelChoiceFilter(
        label="Signataire", queryset=Organisation.objects.none(), empty_label="Tous"
    )
    statut = django_filters.ChoiceFilter(
        label="État", choices=EngagementSignataire.Statut.choices, empty_label="Tous"
    )
    a_revoir = django_filters.BooleanFilter(
        label="À revoir seulement",
        method="filter_a_revoir",
        widget=django_filters.widgets.forms.CheckboxInput,
    )

    class Meta:
        model = EngagementSignataire
        fields = []

    def __init__(self, *args, contrat, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["signataire"].queryset = contrat.signataires.order_by("nom")

    def filter_a_revoir(self, queryset, name, value):
        return queryset.a_revoir() if value else queryset
