from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Commune, Indicateur, Observation, Qpv, Secteur, ValeurIndicateur


class CommuneInline(admin.TabularInline):
    model = Commune
    fields = ["code_insee", "nom", "population"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Secteur)
class SecteurAdmin(admin.ModelAdmin):
    list_display = ["nom", "chef_projet", "backup", "nombre_communes"]
    search_fields = ["nom", "chef_projet__email", "chef_projet__last_name"]
    list_select_related = ["chef_projet", "backup"]
    autocomplete_fields = []
    inlines = [CommuneInline]

    @admin.display(description="communes")
    def nombre_communes(self, obj):
        return obj.communes.count()


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ["nom", "code_insee", "population", "population_annee", "secteur"]
    list_filter = ["secteur", ("qpvs", admin.EmptyFieldListFilter)]
    search_fields = ["nom", "code_insee"]
    list_select_related = ["secteur"]
    list_editable = ["secteur"]


@admin.register(Qpv)
class QpvAdmin(admin.ModelAdmin):
    list_display = ["nom", "geographie", "code", "liste_communes", "population", "successeur"]
    list_filter = ["geographie", "communes__secteur"]
    search_fields = ["nom", "code", "communes__nom"]
    filter_horizontal = ["communes"]
    list_select_related = ["successeur"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("communes")

    @admin.display(description="communes")
    def liste_communes(self, obj):
        return ", ".join(c.nom for c in obj.communes.all())


@admin.register(Indicateur)
class IndicateurAdmin(admin.ModelAdmin):
    list_display = ["libelle", "code", "unite", "source", "ordre"]
    search_fields = ["libelle", "code"]
    list_editable = ["ordre"]


@admin.register(ValeurIndicateur)
class ValeurIndicateurAdmin(SimpleHistoryAdmin):
    list_display = ["indicateur", "qpv", "commune", "annee", "valeur", "source", "est_demo"]
    list_filter = ["indicateur", "annee", "est_demo", "qpv__geographie"]
    search_fields = ["qpv__nom", "commune__nom", "indicateur__libelle", "source"]
    list_select_related = ["indicateur", "qpv", "commune"]
    raw_id_fields = ["created_by"]


@admin.register(Observation)
class ObservationAdmin(SimpleHistoryAdmin):
    list_display = ["date", "titre", "qpv", "commune", "auteur"]
    list_filter = ["date", "qpv__geographie"]
    search_fields = ["titre", "texte", "qpv__nom", "commune__nom"]
    list_select_related = ["qpv", "commune", "auteur"]
    date_hierarchy = "date"
    raw_id_fields = ["auteur"]
