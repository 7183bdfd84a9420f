from django.contrib import admin

from .models import Courriel


@admin.register(Courriel)
class CourrielAdmin(admin.ModelAdmin):
    """Read-only: what left, what waits for the worker, and why a sending failed."""

    list_display = ["subject", "created_at", "sent_at", "attempts"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    fields = ["subject", "to", "created_at", "sent_at", "attempts", "error"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
