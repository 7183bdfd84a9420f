from django.contrib import admin

from .models import Rapport


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
