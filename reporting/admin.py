from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import ChapitreRapport, Consultation, Rapport, RapportAnnuel


@admin.register(Rapport)
class RapportAdmin(admin.ModelAdmin):
    """Reports are built by workers: read and delete only."""

    list_display = ["titre", "type", "statut", "demande_par", "created_at", "pages"]
    list_filter = ["type", "statut"]
    search_fields = ["titre", "demande_par__email"]
    readonly_fields = [f.name for f in Rapport._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ChapitreInline(admin.TabularInline):
    model = ChapitreRapport
    fields = ["type", "commune", "texte", "modifie_par"]
    readonly_fields = ["modifie_par"]
    extra = 0


class ConsultationInline(admin.StackedInline):
    model = Consultation
    extra = 0


@admin.register(RapportAnnuel)
class RapportAnnuelAdmin(SimpleHistoryAdmin):
    """For corrections by an administrator; the service works on the report's page."""

    list_display = ["__str__", "annee", "date_approbation", "numero_deliberation", "publie_le"]
    list_filter = ["annee", "contrat"]
    filter_horizontal = ["communes_dsu"]
    inlines = [ChapitreInline, ConsultationInline]
