import django_filters
from django.db.models import Q

from core.lists import FilterSet
from quartiers.models import Commune, Qpv, Secteur

from .models import ConseilCitoyen, CycleQualification, Demarche, TypeParticipation


class DemarcheFilterSet(FilterSet):
    search = django_filters.CharFilter(label="Recherche", method="filter_search")
    initiateur = django_filters.ChoiceFilter(
        label="Initiateur", choices=Demarche.Initiateur.choices, empty_label="Tous"
    )
    type = django_filters.ChoiceFilter(
        label="Type", choices=Demarche.Type.choices, empty_label="Tous"
    )
    statut = django_filters.ChoiceFilter(
        label="Statut", choices=Demarche.Statut.choices, empty_label="Tous"
    )
    commune = django_filters.ModelChoiceFilter(
        label="Commune",
        field_name="communes",
        queryset=Commune.objects.filter(demarches__isnull=False).distinct(),
        empty_label="Toutes",
    )
    qpv = django_filters.ModelChoiceFilter(
        label="QPV",
        field_name="qpvs",
        queryset=Qpv.objects.filter(geographie="2024"),
        empty_label="Tous",
    )

    class Meta:
        model = Demarche
        fields = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(titre__icontains=value) | Q(description__icontains=value))


class ConseilFilterSet(FilterSet):
    search = django_filters.CharFilter(label="Recherche", field_name="nom", lookup_expr="icontains")
    type = django_filters.ModelChoiceFilter(
        label="Type", queryset=TypeParticipation.objects.all(), empty_label="Tous"
    )
    commune = django_filters.ModelChoiceFilter(
        label="Commune",
        queryset=Commune.objects.filter(conseils__isnull=False).distinct(),
        empty_label="Toutes",
    )
    # "mien": the councils the chef de projet may edit (all of them for the participation
    # referent), as the list's "Mon secteur" button asks; otherwise a sector's pk.
    secteur = django_filters.ChoiceFilter(
        label="Secteur", empty_label="Tous", method="filter_secteur"
    )
    statut = django_filters.ChoiceFilter(
        label="Statut", choices=ConseilCitoyen.Statut.choices, empty_label="Tous"
    )

    class Meta:
        model = ConseilCitoyen
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        mine = [("mien", "Mon secteur")] if user is not None and user.is_chef_projet else []
        secteurs = [(str(pk), nom) for pk, nom in Secteur.objects.values_list("pk", "nom")]
        self.filters["secteur"].extra["choices"] = mine + secteurs

    def filter_secteur(self, queryset, name, value):
        if value == "mien":
            return queryset.filter(pk__in=ConseilCitoyen.objects.editable_by(self.request.user))
        return queryset.filter(commune__secteur_id=value)


class CycleFilterSet(FilterSet):
    search = django_filters.CharFilter(
        label="Recherche", field_name="titre", lookup_expr="icontains"
    )
    annee = django_filters.NumberFilter(label="Année")

    class Meta:
        model = CycleQualification
        fields = []
