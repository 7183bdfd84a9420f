from collections import OrderedDict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from core.exports import FORMATS, export_response
from core.lists import paginate
from cvu import rights

from . import services
from .filters import CommuneFilterSet, QpvFilterSet
from .forms import ObservationForm, ValeurIndicateurForm
from .models import Commune, Observation, Qpv, Secteur, ValeurIndicateur


def _check_editable(queryset, user, pk) -> None:
    rights.require(queryset.editable_by(user).filter(pk=pk).exists(), rights.CHANGE_REFUSAL)


def _sector_names(communes) -> tuple[str, str]:
    """Sector names and chefs de projet of a set of prefetched communes, for lists and exports."""
    secteurs = OrderedDict((c.secteur_id, c.secteur) for c in communes if c.secteur_id)
    names = ", ".join(s.nom for s in secteurs.values())
    chefs = ", ".join(str(s.chef_projet) for s in secteurs.values() if s.chef_projet_id)
    return names, chefs


def _communes_with_sector():
    return Prefetch(
        "communes", queryset=Commune.objects.select_related("secteur__chef_projet").order_by("nom")
    )


# ---------------------------------------------------------------- lists


QPV_COLUMNS = [
    ("Nom", lambda q: q.nom),
    ("Code officiel", lambda q: q.code or ""),
    ("Géographie", lambda q: q.geographie),
    ("Communes", lambda q: ", ".join(c.nom for c in q.communes.all())),
    ("Secteur", lambda q: _sector_names(q.communes.all())[0]),
    ("Chef de projet", lambda q: _sector_names(q.communes.all())[1]),
    ("Population", lambda q: q.population),
    ("Année de la population", lambda q: q.population_annee),
]


def qpv_list(request: HttpRequest) -> HttpResponse:
    queryset = Qpv.objects.visible_to(request.user).prefetch_related(_communes_with_sector())
    filterset = QpvFilterSet(request.GET, queryset=queryset.alphabetical("-geographie"))
    rows = filterset.qs
    if request.GET.get("export") in FORMATS:
        return export_response(
            rows, QPV_COLUMNS, filename="qpv", fmt=request.GET["export"], request=request
        )
    page = paginate(request, rows)
    for qpv in page:
        qpv.secteurs_label, qpv.chefs_label = _sector_names(qpv.communes.all())
    return render(request, "quartiers/qpv_list.html", {"filter": filterset, "page_obj": page})


COMMUNE_COLUMNS = [
    ("Code INSEE", lambda c: c.code_insee),
    ("Nom", lambda c: c.nom),
    ("Population", lambda c: c.population),
    ("Année de la population", lambda c: c.population_annee),
    ("Secteur", lambda c: c.secteur.nom if c.secteur else ""),
    (
        "Chef de projet",
        lambda c: str(c.secteur.chef_projet) if c.secteur and c.secteur.chef_projet else "",
    ),
    ("QPV", lambda c: ", ".join(str(q) for q in c.qpvs.all())),
]


def commune_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        Commune.objects.visible_to(request.user)
        .select_related("secteur__chef_projet")
        .prefetch_related(Prefetch("qpvs", queryset=Qpv.objects.order_by("-geographie", "nom")))
        .alphabetical()
    )
    filterset = CommuneFilterSet(request.GET, queryset=queryset)
    rows = filterset.qs
    if request.GET.get("export") in FORMATS:
        return export_response(
            rows, COMMUNE_COLUMNS, filename="communes", fmt=request.GET["export"], request=request
        )
    return render(
        request,
        "quartiers/commune_list.html",
        {"filter": filterset, "page_obj": paginate(request, rows)},
    )


def secteur_list(request: HttpRequest) -> HttpResponse:
    secteurs = (
        Secteur.objects.visible_to(request.user)
        .select_related("chef_projet", "backup")
        .prefetch_related(Prefetch("communes", queryset=Commune.objects.order_by("nom")))
        .alphabetical()
    )
    return render(request, "quartiers/secteur_list.html", {"secteurs": secteurs})


# ---------------------------------------------------------------- territory pages


def _territory_page(request: HttpRequest, territory, *, template: str, extra: dict) -> HttpResponse:
    """Shared by QPV and commune pages: diagnosis table, chart, observations and the two forms."""
    model = type(territory)
    can_edit = model.objects.editable_by(request.user).filter(pk=territory.pk).exists()
    link = {"qpv": territory} if isinstance(territory, Qpv) else {"commune": territory}
    observation_form = ObservationForm(prefix="obs")
    valeur_form = ValeurIndicateurForm(prefix="val")
    status = 200
    if request.method == "POST":
        rights.require(can_edit, rights.CHANGE_REFUSAL)
        if request.POST.get("form") == "observation":
            observation_form = ObservationForm(
                request.POST, prefix="obs", instance=Observation(**link)
            )
            if observation_form.is_valid():
                try:
                    services.observation_save(
                        observation=observation_form.instance, user=request.user
                    )
                except ValidationError as error:
                    observation_form.add_error(None, error)
                else:
                    messages.success(request, "Observation enregistrée.")
                    return redirect(f"{request.path}#observations")
        elif request.POST.get("form") == "valeur":
            valeur_form = ValeurIndicateurForm(
                request.POST, prefix="val", instance=ValeurIndicateur(**link)
            )
            if valeur_form.is_valid():
                try:
                    services.valeur_save(valeur=valeur_form.instance, user=request.user)
                except ValidationError as error:
                    valeur_form.add_error(None, error)
                else:
                    messages.success(request, "Valeur enregistrée.")
                    return redirect(f"{request.path}#indicateurs")
        status = 400

    valeurs = ValeurIndicateur.objects.for_territory(territory).select_related("indicateur")
    series = services.indicator_series(valeurs)
    years = sorted({v.annee for entry in series for v in entry["valeurs"]})
    for entry in series:
        by_year = {v.annee: v for v in entry["valeurs"]}
        entry["cells"] = [by_year.get(year) for year in years]
    chart = [
        {
            "code": entry["indicateur"].code,
            "label": entry["indicateur"].libelle,
            "unit": entry["indicateur"].unite,
            "years": [v.annee for v in entry["valeurs"]],
            "values": [float(v.valeur) for v in entry["valeurs"]],
        }
        for entry in series
    ]
    observations = paginate(
        request,
        Observation.objects.for_territory(territory).select_related("auteur"),
        # A section under the territory's indicators: a short page keeps them in view.
        per_page=20,
    )
    context = {
        "territory": territory,
        "can_edit": can_edit,
        "series": series,
        "years": years,
        "chart": chart,
        "has_demo_values": any(v.est_demo for entry in series for v in entry["valeurs"]),
        "observations": observations,
        "observation_form": observation_form,
        "valeur_form": valeur_form,
        **extra,
    }
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
def qpv_detail(request: HttpRequest, pk: int) -> HttpResponse:
    qpv = get_object_or_404(
        Qpv.objects.visible_to(request.user).prefetch_related(
            _communes_with_sector(), "successeurs", "predecesseurs"
        ),
        pk=pk,
    )
    secteurs, chefs = _sector_names(qpv.communes.all())
    return _territory_page(
        request,
        qpv,
        template="quartiers/qpv_detail.html",
        extra={"secteurs_label": secteurs, "chefs_label": chefs},
    )


@require_http_methods(["GET", "POST"])
def commune_detail(request: HttpRequest, code_insee: str) -> HttpResponse:
    commune = get_object_or_404(
        Commune.objects.visible_to(request.user)
        .select_related("secteur__chef_projet", "secteur__backup")
        .prefetch_related(Prefetch("qpvs", queryset=Qpv.objects.order_by("-geographie", "nom"))),
        code_insee=code_insee,
    )
    return _territory_page(request, commune, template="quartiers/commune_detail.html", extra={})


# ---------------------------------------------------------------- edit and delete


def _get_observation(request: HttpRequest, pk: int) -> Observation:
    observation = get_object_or_404(
        Observation.objects.visible_to(request.user).select_related("qpv", "commune"), pk=pk
    )
    _check_editable(Observation.objects, request.user, pk)
    return observation


def _get_valeur(request: HttpRequest, pk: int) -> ValeurIndicateur:
    valeur = get_object_or_404(
        ValeurIndicateur.objects.visible_to(request.user).select_related(
            "qpv", "commune", "indicateur"
        ),
        pk=pk,
    )
    _check_editable(ValeurIndicateur.objects, request.user, pk)
    return valeur


def _edit(request, instance, form_class, save, *, template, success, anchor):
    form = form_class(request.POST if request.method == "POST" else None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            save(form.instance, request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, success)
            return redirect(f"{instance.territory.get_absolute_url()}#{anchor}")
    status = 400 if request.method == "POST" else 200
    return render(request, template, {"form": form, "object": instance}, status=status)


@require_http_methods(["GET", "POST"])
def observation_update(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(
        request,
        _get_observation(request, pk),
        ObservationForm,
        lambda obj, user: services.observation_save(observation=obj, user=user),
        template="quartiers/observation_form.html",
        success="Observation modifiée.",
        anchor="observations",
    )


@require_http_methods(["GET", "POST"])
def valeur_update(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(
        request,
        _get_valeur(request, pk),
        ValeurIndicateurForm,
        lambda obj, user: services.valeur_save(valeur=obj, user=user),
        template="quartiers/valeur_form.html",
        success="Valeur modifiée.",
        anchor="indicateurs",
    )


def _delete(request, instance, delete, *, what, anchor):
    if request.method == "POST":
        target = f"{instance.territory.get_absolute_url()}#{anchor}"
        delete(instance)
        messages.success(request, f"{what.capitalize()} supprimée.")
        return redirect(target)
    return render(request, "quartiers/confirm_delete.html", {"object": instance, "what": what})


@require_http_methods(["GET", "POST"])
def observation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _delete(
        request,
        _get_observation(request, pk),
        lambda obj: services.observation_delete(observation=obj),
        what="l'observation",
        anchor="observations",
    )


@require_http_methods(["GET", "POST"])
def valeur_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _delete(
        request,
        _get_valeur(request, pk),
        lambda obj: services.valeur_delete(valeur=obj),
        what="la valeur",
        anchor="indicateurs",
    )
