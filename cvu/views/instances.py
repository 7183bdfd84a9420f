from datetime import timedelta

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Prefetch, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.exports import FORMATS, export_response
from core.forms import save_if_editable
from core.formsets import check_counts
from core.lists import paginate
from quartiers.models import Commune

from .. import rights
from ..filters import DispositifFilterSet, InstanceFilterSet
from ..forms_gouvernance import (
    ActionTFPBFormSet,
    DispositifForm,
    InstanceForm,
    PlanActionFormSet,
    PosteAdulteRelaisFormSet,
    scheme_choices,
)
from ..models import (
    ActionTFPB,
    Contact,
    DispositifConnexe,
    Instance,
    PosteAdulteRelais,
    Presence,
    Reunion,
)

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
    if dispositif.type == DispositifConnexe.Type.TFPB:
        context.update(_tfpb_context(request, dispositif))
    if dispositif.type == DispositifConnexe.Type.ADULTES_RELAIS:
        context["postes"] = list(
            PosteAdulteRelais.objects.filter(dispositif=dispositif).select_related(
                "employeur", "qpv"
            )
        )
    return render(request, "cvu/dispositif_detail.html", context)


def _annee(request: HttpRequest) -> int:
    value = request.GET.get("annee", "")
    year = timezone.localdate().year
    return int(value) if value.isdigit() and year - 10 <= int(value) <= year + 5 else year


def _tfpb_context(request: HttpRequest, dispositif: DispositifConnexe) -> dict:
    """The year's programme, by landlord and QPV, with planned and done totals."""
    annee = _annee(request)
    rows = list(
        ActionTFPB.objects.filter(dispositif=dispositif, annee=annee).select_related(
            "bailleur", "qpv"
        )
    )
    by_landlord = (
        ActionTFPB.objects.filter(dispositif=dispositif, annee=annee)
        .values("bailleur__nom")
        .annotate(prevu=Sum("montant_prevu"), realise=Sum("montant_realise"))
        .order_by("bailleur__nom")
    )
    years = set(
        ActionTFPB.objects.filter(dispositif=dispositif).values_list("annee", flat=True)
    ) | {annee, timezone.localdate().year}
    return {
        "annee": annee,
        "annees": sorted(years),
        "actions_tfpb": rows,
        "tfpb_bailleurs": list(by_landlord),
        "tfpb_prevu": sum((r.montant_prevu for r in rows), 0),
        "tfpb_realise": sum((r.montant_realise or 0 for r in rows), 0),
    }


def _scheme_formset_page(request, dispositif, formset, template, context, message, back):
    check_counts(formset, can_add=True)
    if request.method == "POST" and formset.is_valid():
        formset.save()
        messages.success(request, message)
        return redirect(back)
    return render(
        request,
        template,
        {"dispositif": dispositif, "formset": formset, **context},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def dispositif_tfpb(request: HttpRequest, pk: int) -> HttpResponse:
    """A year's TFPB programme: each landlord's actions per QPV and axis, planned and done."""
    dispositif = rights.get_visible(
        request.user, DispositifConnexe.objects.filter(type="tfpb"), pk, write=True
    )
    annee = _annee(request)
    data = request.POST if request.method == "POST" else None
    formset = ActionTFPBFormSet(
        data,
        instance=dispositif,
        prefix="tfpb",
        queryset=ActionTFPB.objects.filter(annee=annee),
        form_kwargs={"choices": scheme_choices("bailleur", "qpv")},
    )
    for form in formset.forms:
        form.instance.annee = annee
    return _scheme_formset_page(
        request,
        dispositif,
        formset,
        "cvu/dispositif_tfpb.html",
        {"annee": annee},
        f"Programme TFPB {annee} enregistré.",
        f"{dispositif.get_absolute_url()}?annee={annee}",
    )


@require_http_methods(["GET", "POST"])
def dispositif_postes(request: HttpRequest, pk: int) -> HttpResponse:
    """The adultes-relais posts: employer, QPV, convention and renewal."""
    dispositif = rights.get_visible(
        request.user, DispositifConnexe.objects.filter(type="adultes_relais"), pk, write=True
    )
    data = request.POST if request.method == "POST" else None
    formset = PosteAdulteRelaisFormSet(
        data,
        instance=dispositif,
        prefix="postes",
        form_kwargs={"choices": scheme_choices("employeur", "qpv")},
    )
    return _scheme_formset_page(
        request,
        dispositif,
        formset,
        "cvu/dispositif_postes.html",
        {},
        "Postes d'adultes-relais enregistrés.",
        dispositif.get_absolute_url(),
    )


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
