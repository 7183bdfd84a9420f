from django import forms
from django.contrib import admin
from django.contrib.admin import helpers, widgets
from django.contrib.admin.utils import unquote
from django.utils.html import escape
from django.utils.safestring import mark_safe

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
from .services import log_access, log_display


@admin.register(TypeParticipation)
class TypeParticipationAdmin(admin.ModelAdmin):
    list_display = [
        "nom",
        "sieges",
        "part_femmes_cible",
        "part_habitants_min",
        "part_residents_cible",
        "part_jeunes_cible",
        "tolerance",
        "siege_unique",
    ]


@admin.register(ConseilCitoyen)
class ConseilAdmin(admin.ModelAdmin):
    list_display = ["nom", "type", "commune", "statut", "arrete_date"]
    list_filter = ["type", "statut", "commune"]
    search_fields = ["nom"]
    list_select_related = ["type", "commune"]
    filter_horizontal = ["qpvs"]


class MemberDataAdmin(admin.ModelAdmin):
    """An admin page showing inhabitants' identities: each display is logged, and neither the
    list, its checkboxes nor the admin's history (LogEntry.object_repr) holds a name."""

    def members_shown(self, obj) -> list[Membre]:
        raise NotImplementedError

    def neutral_repr(self, obj) -> str:
        return f"{obj._meta.verbose_name} n° {obj.pk}"

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, obj):
        attrs = {"class": "action-select", "aria-label": f"Sélectionner {self.neutral_repr(obj)}"}
        checkbox = forms.CheckboxInput(attrs, lambda value: False)
        return checkbox.render(helpers.ACTION_CHECKBOX_NAME, str(obj.pk))

    def _log_display(self, request, object_id):
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        if obj is not None:
            log_display(membres=self.members_shown(obj), user=request.user, page=request.path)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        response = super().changeform_view(request, object_id, form_url, extra_context)
        if response.status_code != 302:
            self._log_display(request, object_id)
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        self._log_display(request, object_id)
        return response

    def delete_view(self, request, object_id, extra_context=None):
        if request.method != "POST":
            self._log_display(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    # The "changed successfully" messages name the object: they name its number instead.
    def response_add(self, request, obj, post_url_continue=None):
        request.shown_identity = (str(obj), self.neutral_repr(obj))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        request.shown_identity = (str(obj), self.neutral_repr(obj))
        return super().response_change(request, obj)

    def response_delete(self, request, obj_display, obj_id):
        return super().response_delete(
            request, f"{self.model._meta.verbose_name} n° {obj_id}", obj_id
        )

    def message_user(self, request, message, *args, **kwargs):
        identity, neutral = getattr(request, "shown_identity", ("", ""))
        if identity:
            message = mark_safe(str(message).replace(escape(identity), escape(neutral)))
        return super().message_user(request, message, *args, **kwargs)

    def _neutral_entry(self, entry, obj):
        entry.object_repr = self.neutral_repr(obj)
        entry.save(update_fields=["object_repr"])
        return entry

    def log_addition(self, request, obj, message):
        return self._neutral_entry(super().log_addition(request, obj, message), obj)

    def log_change(self, request, obj, message):
        return self._neutral_entry(super().log_change(request, obj, message), obj)

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        for entry in entries:
            entry.object_repr = f"{queryset.model._meta.verbose_name} n° {entry.object_id}"
            entry.save(update_fields=["object_repr"])
        return entries


@admin.register(Membre)
class MembreAdmin(MemberDataAdmin):
    """Identity is hidden in the list; each member page logs its display. Members are erased
    from the application (which keeps statistics), never deleted here."""

    list_display = ["pk", "conseil", "college", "genre", "tranche_age", "statut", "anonymise_le"]
    list_filter = ["conseil", "college", "statut"]
    list_select_related = ["conseil"]
    readonly_fields = ["anonymise_le"]

    def members_shown(self, obj):
        return [obj]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        log_access(
            membre=obj,
            user=request.user,
            action=AccesDonnees.Action.MODIFICATION,
            page=request.path,
        )


@admin.register(AccesDonnees)
class AccesDonneesAdmin(admin.ModelAdmin):
    """Append-only: nobody changes nor deletes an entry, the administrator included."""

    list_display = ["date", "action", "utilisateur", "membre_id", "page"]
    list_filter = ["action"]
    list_select_related = ["utilisateur"]
    fields = ["date", "action", "utilisateur", "membre_numero", "page"]
    readonly_fields = ["membre_numero"]

    @admin.display(description="membre n°")
    def membre_numero(self, obj):
        return obj.membre_id

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class NoLabelRawIdWidget(widgets.ForeignKeyRawIdWidget):
    """The member's number only: the default widget prints the member's name beside it."""

    def label_and_url_for_value(self, value):
        return "", ""


@admin.register(PresenceMembre)
class PresenceMembreAdmin(MemberDataAdmin):
    list_display = ["reunion", "membre_id", "statut"]
    list_select_related = ["reunion"]
    raw_id_fields = ["reunion", "membre"]
    actions = None  # The bulk deletion page would list the members' names.

    def members_shown(self, obj):
        return [obj.membre]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "membre":
            kwargs["widget"] = NoLabelRawIdWidget(db_field.remote_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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
