from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from simple_history.admin import SimpleHistoryAdmin

from .models import Commune, Indicateur, Observation, Qpv, Secteur, ValeurIndicateur


class SecteurAdminForm(forms.ModelForm):
    """Assigns communes from the sector's page (a commune belongs to one sector at most)."""

    communes = forms.ModelMultipleChoiceField(
        label="communes",
        queryset=Commune.objects.select_related("secteur").order_by("nom"),
        required=False,
        widget=FilteredSelectMultiple("communes", is_stacked=False),
        help_text="Une commune déjà affectée à un autre secteur passe dans celui-ci.",
    )

    class Meta:
        model = Secteur
        fields = ["nom", "chef_projet", "backup"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["communes"].initial = self.instance.communes.all()


@admin.register(Secteur)
class SecteurAdmin(admin.ModelAdmin):
    form = SecteurAdminForm
    list_display = ["nom", "chef_projet", "backup", "nombre_communes"]
    list_filter = [("chef_projet", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["nom", "chef_projet__email", "chef_projet__last_name"]
    list_select_related = ["chef_projet", "backup"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(nb_communes=Count("communes"))

    @admin.display(description="communes", ordering="nb_communes")
    def nombre_communes(self, obj):
        return obj.nb_communes

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        with transaction.atomic():
            chosen = form.cleaned_data["communes"]
            form.instance.communes.exclude(pk__in=chosen).update(secteur=None)
            Commune.objects.filter(pk__in=chosen).update(secteur=form.instance)


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ["nom", "code_insee", "population", "population_annee", "secteur"]
    list_filter = ["secteur", ("qpvs", admin.EmptyFieldListFilter)]
    search_fields = ["nom", "code_insee"]
    list_select_related = ["secteur"]


class QpvAdminForm(forms.ModelForm):
    class Meta:
        model = Qpv
        fields = [
            "nom",
            "geographie",
            "code",
            "communes",
            "population",
            "population_annee",
            "successeurs",
            "notes",
        ]

    def clean(self):
        cleaned = super().clean()
        try:
            as_saved = Qpv(geographie=cleaned.get("geographie"))
            as_saved.check_successeurs(list(cleaned.get("successeurs") or []))
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned


@admin.register(Qpv)
class QpvAdmin(admin.ModelAdmin):
    list_display = [
        "nom",
        "geographie",
        "code",
        "liste_communes",
        "population",
        "liste_successeurs",
    ]
    list_filter = ["geographie", "communes__secteur"]
    search_fields = ["nom", "code", "communes__nom"]
    filter_horizontal = ["communes", "successeurs"]
    form = QpvAdminForm

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("communes", "successeurs")

    @admin.display(description="communes")
    def liste_communes(self, obj):
        return ", ".join(c.nom for c in obj.communes.all())

    @admin.display(description="successeurs")
    def liste_successeurs(self, obj):
        return ", ".join(q.nom for q in obj.successeurs.all())


@admin.register(Indicateur)
class IndicateurAdmin(admin.ModelAdmin):
    list_display = ["libelle", "code", "unite", "source", "ordre"]
    list_filter = ["unite", "source"]
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
