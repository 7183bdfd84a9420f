from django.contrib import admin

from .models import (
    AccesDonnees,
    BesoinFormation,
    Charte,
    ConseilCitoyen,
    CycleQualification,
    Demarche,
    Engagement,
    Membre,
    PresenceMembre,
    SessionFormation,
    TypeParticipation,
)


@admin.register(TypeParticipation)
class TypeParticipationAdmin(admin.ModelAdmin):
    list_display = [
        "nom",
        "sieges",
        "part_femmes_cible",
        "part_habitants_min",
        "part_residents_cible",
        "tolerance",
    ]


@admin.register(ConseilCitoyen)
class ConseilAdmin(admin.ModelAdmin):
    list_display = ["nom", "type", "commune", "statut", "arrete_date"]
    list_filter = ["type", "statut", "commune"]
    search_fields = ["nom"]
    list_select_related = ["type", "commune"]
    filter_horizontal = ["qpvs"]


@admin.register(Membre)
class MembreAdmin(admin.ModelAdmin):
    """Identity is hidden in the list; the member's page in the application logs each view."""

    list_display = ["pk", "conseil", "college", "genre", "tranche_age", "statut", "anonymise_le"]
    list_filter = ["conseil", "college", "statut"]
    list_select_related = ["conseil"]
    readonly_fields = ["anonymise_le"]


@admin.register(AccesDonnees)
class AccesDonneesAdmin(admin.ModelAdmin):
    list_display = ["date", "action", "utilisateur", "membre_id"]
    list_filter = ["action"]
    list_select_related = ["utilisateur"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(PresenceMembre)
class PresenceMembreAdmin(admin.ModelAdmin):
    list_display = ["reunion", "membre_id", "statut"]
    list_select_related = ["reunion"]
    raw_id_fields = ["reunion", "membre"]


class EngagementInline(admin.TabularInline):
    model = Engagement
    extra = 0


@admin.register(Charte)
class CharteAdmin(admin.ModelAdmin):
    list_display = ["version", "date_adoption", "instance_adoption"]
    inlines = [EngagementInline]


@admin.register(Demarche)
class DemarcheAdmin(admin.ModelAdmin):
    list_display = ["titre", "type", "initiateur", "statut", "date_debut"]
    list_filter = ["type", "initiateur", "statut"]
    search_fields = ["titre"]
    filter_horizontal = ["qpvs", "communes", "actions"]


class BesoinInline(admin.TabularInline):
    model = BesoinFormation
    extra = 0


class SessionInline(admin.TabularInline):
    model = SessionFormation
    extra = 0


@admin.register(CycleQualification)
class CycleAdmin(admin.ModelAdmin):
    list_display = ["titre", "annee"]
    filter_horizontal = ["partenaires"]
    inlines = [SessionInline, BesoinInline]
