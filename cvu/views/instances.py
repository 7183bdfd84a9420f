from datetime import timedelta

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.exports import FORMATS, export_response
from core.forms import save_if_editable
from core.lists import paginate
from quartiers.models import Commune

from .. import rights
from ..filters import DispositifFilterSet, InstanceFilterSet
from ..forms_gouvernance import DispositifForm, InstanceForm, PlanActionFormSet
from ..models import Contact, DispositifConnexe, Instance, Presence, Reunion

# ---------------------------------------------------------------- instances


INSTANCE_COLUMNS = [
    ("Instance", lambda i: i.nom),
    ("Type", lambda i: str(i.type)),
    ("Échelle", lambda i: i.get_echelle_display()),
    ("Organisateur", lambda i: str(i.organisateur or "")),
    ("Communes", lambda i: ", ".join(c.nom for c in i.communes.all())),
    ("Réunions", lambda i: i.nb_reunions),
]
DISPOSITIF_COLUMNS = [
    ("Dispositif", lambda d: d.nom),
    ("Type", lambda d: d.get_type_display()),
    ("Mode d'implication", lambda d: d.get_mode_display()),
    ("Communes", lambda d: ", ".join(c.nom for c in d.communes.all())),
]


def instance_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        Instance.objects.visible_to(request.user)
        .select_related("type", "organisateur")
        .prefetch_related(Prefetch("communes", queryset=Commune.objects.order_by("nom")))
        .annotate(nb_reunions=Count("reunions"))
        .order_by("type__ordre", "type__nom", "nom")
    )
    filterset = InstanceFilterSet(request.GET, queryset=queryset)
    if request.GET.get("export") in FORMATS:
        return export_response(
            filterset.qs,
            INSTANCE_COLUMNS,
            filename="instances",
            fmt=request.GET["export"],
            request=request,
        )
    page = paginate(request, filterset.qs)
    return render(
        request,
        "cvu/instance_list.html",
        {
            "filter": filterset,
            "page_obj": page,
            "can_create": rights.may_create(request.user, Instance),
        },
    )


def attendance_rates(instance: Instance, *, days: int = 365) -> list[dict]:
    """Share of the instance's meetings held over the period that each member organisation
    attended (someone present for it)."""
    since = timezone.now() - timedelta(days=days)
    held = Reunion.objects.filter(
        instance=instance, statut=Reunion.Statut.TENUE, debut__gte=since, debut__lte=timezone.now()
    )
    total = held.count()
    attended = dict(
        Presence.objects.filter(reunion__in=held, statut=Presence.Statut.PRESENT)
        .exclude(organisation=None)
        .values("organisation")
        .annotate(n=Count("reunion", distinct=True))
        .values_list("organisation", "n")
    )
    rows = []
    for organisation in instance.organisations_membres.all():
        count = attended.get(organisation.pk, 0)
        rows.append(
            {
                "organisation": organisation,
                "present": count,
                "total": total,
                "taux": round(100 * count / total) if total else None,
            }
        )
    return sorted(rows, key=lambda r: (r["taux"] is None, -(r["taux"] or 0)))


def instance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    instance = get_object_or_404(
        Instance.objects.visible_to(request.user)
        .select_related("type", "organisateur", "dispositif")
        .prefetch_related(
            "communes",
            "organisations_membres",
            Prefetch("contacts_membres", queryset=Contact.objects.select_related("organisation")),
        ),
        pk=pk,
    )
    reunions = Reunion.objects.filter(instance=instance)
    now = timezone.now()
    context = {
        "instance": instance,
        "prochaines": reunions.filter(debut__gte=now).order_by("debut")[:10],
        "passees": reunions.filter(debut__lt=now).order_by("-debut")[:10],
        "taux": attendance_rates(instance),
        "can_edit": Instance.objects.editable_by(request.user).filter(pk=pk).exists(),
    }
    return render(request, "cvu/instance_detail.html", context)


def _instance_form_page(request: HttpRequest, instance: Instance | None) -> HttpResponse:
    form = InstanceForm(
        request.POST if request.method == "POST" else None, instance=instance or Instance()
    )
    if request.method == "POST" and form.is_valid():
        saved = save_if_editable(
            form,
            request.user,
            message="Vous ne pourriez plus modifier cette instance : une instance communale "
            "relève du secteur de ses communes, une intercommunale de son organisateur.",
        )
        if saved:
            messages.success(request, "Instance enregistrée.")
            return redirect(saved)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "cvu/instance_form.html", {"form": form, "instance": instance}, status=status
    )


@require_http_methods(["GET", "POST"])
def instance_create(request: HttpRequest) -> HttpResponse:
    rights.require_create(request.user, Instance)
    return _instance_form_page(request, None)


@require_http_methods(["GET", "POST"])
def instance_update(request: HttpRequest, pk: int) -> HttpResponse:
    instance = rights.get_visible(request.user, Instance.objects, pk, write=True)
    return _instance_form_page(request, instance)


# ---------------------------------------------------------------- connected schemes


def dispositif_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        DispositifConnexe.objects.visible_to(request.user)
        .prefetch_related(Prefetch("communes", queryset=Commune.objects.order_by("nom")))
        .order_by("type", "nom")
    )
    filterset = DispositifFilterSet(request.GET, queryset=queryset)
    if request.GET.get("export") in FORMATS:
        return export_response(
            filterset.qs,
            DISPOSITIF_COLUMNS,
            filename="dispositifs",
            fmt=request.GET["export"],
            request=request,
        )
    return render(
        request,
        "cvu/dispositif_list.html",
        {
            "filter": filterset,
            "page_obj": paginate(request, filterset.qs),
            "can_create": rights.may_create(request.user, DispositifConnexe),
        },
    )


def dispositif_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dispositif = get_object_or_404(
        DispositifConnexe.objects.visible_to(request.user).prefetch_related(
            "communes", "qpvs", "plan_actions", "instances"
        ),
        pk=pk,
    )
    reunions = (
        Reunion.objects.filter(instance__dispositif=dispositif)
        .select_related("instance")
        .order_by("-debut")[:20]
    )
    context = {
        "dispositif": dispositif,
        "reunions": reunions,
        "can_edit": DispositifConnexe.objects.editable_by(request.user).filter(pk=pk).exists(),
    }
    return render(request, "cvu/dispositif_detail.html", context)


def _dispositif_form_page(request: HttpRequest, dispositif: DispositifConnexe | None):
    instance = dispositif or DispositifConnexe()
    data = request.POST if request.method == "POST" else None
    form = DispositifForm(data, instance=instance)
    plan = PlanActionFormSet(data, instance=instance, prefix="plan")
    if request.method == "POST" and form.is_valid() and plan.is_valid():
        with transaction.atomic():
            saved = form.save()
            plan.instance = saved
            plan.save()
        messages.success(request, "Dispositif enregistré.")
        return redirect(saved)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "cvu/dispositif_form.html",
        {"form": form, "plan": plan, "dispositif": dispositif},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def dispositif_create(request: HttpRequest) -> HttpResponse:
    rights.require_create(request.user, DispositifConnexe)
    return _dispositif_form_page(request, None)


@require_http_methods(["GET", "POST"])
def dispositif_update(request: HttpRequest, pk: int) -> HttpResponse:
    dispositif = rights.get_visible(request.user, DispositifConnexe.objects, pk, write=True)
    return _dispositif_form_page(request, dispositif)
