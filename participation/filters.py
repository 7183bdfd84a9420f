import django_filters
from django.db.models import Q

from quartiers.models import Commune, Qpv

from .models import Demarche


class DemarcheFilterSet(django_filters.FilterSet):
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
