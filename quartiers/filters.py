import django_filters
from django.db.models import Q

from core.lists import FilterSet

from .models import Commune, Qpv, Secteur


class QpvFilterSet(FilterSet):
    search = django_filters.CharFilter(label="Recherche", method="filter_search")
    geographie = django_filters.ChoiceFilter(
        label="Géographie", choices=Qpv.Geographie.choices, empty_label="Toutes"
    )
    commune = django_filters.ModelChoiceFilter(
        label="Commune",
        field_name="communes",
        queryset=Commune.objects.filter(qpvs__isnull=False).distinct(),
        empty_label="Toutes",
    )
    secteur = django_filters.ModelChoiceFilter(
        label="Secteur",
        field_name="communes__secteur",
        queryset=Secteur.objects.all(),
        empty_label="Tous",
        distinct=True,
    )

    class Meta:
        model = Qpv
        fields = ["search", "geographie", "commune", "secteur"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(nom__icontains=value) | Q(code__icontains=value))


class CommuneFilterSet(FilterSet):
    search = django_filters.CharFilter(label="Recherche", method="filter_search")
    secteur = django_filters.ModelChoiceFilter(
        label="Secteur", queryset=Secteur.objects.all(), empty_label="Tous"
    )
    avec_qpv = django_filters.ChoiceFilter(
        label="Quartier prioritaire",
        choices=[("oui", "Avec un QPV"), ("non", "Sans QPV")],
        empty_label="Toutes",
        method="filter_avec_qpv",
    )

    class Meta:
        model = Commune
        fields = ["search", "secteur", "avec_qpv"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(nom__icontains=value) | Q(code_insee__startswith=value))

    def filter_avec_qpv(self, queryset, name, value):
        return queryset.filter(qpvs__isnull=value == "non").distinct()
