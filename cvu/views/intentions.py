"""Fiches d'intention and the advice log of porteurs."""

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from core.lists import paginate
from quartiers.models import Qpv

from .. import intentions, rights
from ..forms_intentions import EchangeForm, FicheIntentionFilterSet, FicheIntentionForm
from ..models import Echange, FicheIntention, Organisation


def _get_intention(request: HttpRequest, pk: int, *, write: bool = False) -> FicheIntention:
    return rights.get_visible(
        request.user,
        FicheIntention.objects.select_related(
            "contrat", "appel", "porteur", "priorite", "action", "auteur"
        ),
        pk,
        write=write,
    )


def _get_echange(request: HttpRequest, pk: int, *, write: bool = False) -> Echange:
    return rights.get_visible(
        request.user, Echange.objects.select_related("organisation", "agent"), pk, write=write
    )


def _back_to_porteur(organisation: Organisation) -> str:
    return f"{organisation.get_absolute_url()}#echanges"


# ---------------------------------------------------------------- fiches d'intention


def intention_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        FicheIntention.objects.visible_to(request.user)
        .select_related("porteur", "appel", "action", "auteur")
        .prefetch_related(Prefetch("qpvs", queryset=Qpv.objects.order_by("nom")))
    )
    filterset = FicheIntentionFilterSet(request.GET, queryset=queryset)
    return render(
        request,
        "cvu/intention_list.html",
        {
            "filter": filterset,
            "page_obj": paginate(request, filterset.qs),
            "can_create": rights.may_create(request.user, FicheIntention),
        },
    )


def intention_detail(request: HttpRequest, pk: int) -> HttpResponse:
    intention = _get_intention(request, pk)
    context = {
        "intention": intention,
        "qpvs": intention.qpvs.order_by("nom"),
        "financeurs": intention.financeurs_envisages.all(),
        "echanges": intentions.intention_echanges(request.user, intention),
        "can_edit": rights.may_change(request.user, intention),
        "can_create_echange": rights.may_create(request.user, Echange),
    }
    return render(request, "cvu/intention_detail.html", context)


def _intention_form_page(request: HttpRequest, intention: FicheIntention) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    initial = {}
    if intention.pk is None:
        # Defaults on the instance: the form then offers the contract's QPVs and priorities.
        intention.contrat = intentions.current_contrat()
        intention.appel = intentions.next_appel(intention.contrat)
        porteur = request.GET.get("porteur", "")
        if porteur.isdigit():
            initial["porteur"] = porteur
    form = FicheIntentionForm(data, instance=intention, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = intentions.intention_save(
            user=request.user,
            intention=form.save(commit=False),
            qpvs=form.cleaned_data["qpvs"],
            financeurs=form.cleaned_data["financeurs_envisages"],
            new_porteur=form.new_porteur,
        )
        if form.new_porteur is not None:
            messages.success(
                request,
                f"Fiche d'intention enregistrée ; le porteur « {saved.porteur.nom} » a été créé "
                "dans Organisations.",
            )
        else:
            messages.success(request, "Fiche d'intention enregistrée.")
        return redirect(saved)
    return render(
        request,
        "cvu/intention_form.html",
        {"form": form, "intention": intention if intention.pk else None},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def intention_create(request: HttpRequest) -> HttpResponse:
    rights.require_create(request.user, FicheIntention)
    return _intention_form_page(request, FicheIntention())


@require_http_methods(["GET", "POST"])
def intention_update(request: HttpRequest, pk: int) -> HttpResponse:
    return _intention_form_page(request, _get_intention(request, pk, write=True))


@require_http_methods(["GET", "POST"])
def intention_delete(request: HttpRequest, pk: int) -> HttpResponse:
    intention = _get_intention(request, pk, write=True)
    if request.method == "POST":
        intentions.intention_delete(user=request.user, intention=intention)
        messages.success(request, f"Fiche d'intention « {intention.titre} » supprimée.")
        return redirect("cvu:intention_list")
    return render(request, "cvu/intention_confirm_delete.html", {"intention": intention})


# ---------------------------------------------------------------- échanges


def _echange_form_page(
    request: HttpRequest, echange: Echange, organisation: Organisation
) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    initial = {}
    intention = request.GET.get("intention", "")
    if echange.pk is None and intention.isdigit():
        initial["intention"] = intention
    form = EchangeForm(data, instance=echange, organisation=organisation, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = intentions.echange_save(user=request.user, echange=form.save(commit=False))
        messages.success(request, "Échange enregistré.")
        if saved.intention_id and request.POST.get("retour") == "intention":
            return redirect(saved.intention)
        return redirect(_back_to_porteur(organisation))
    return render(
        request,
        "cvu/echange_form.html",
        {
            "form": form,
            "echange": echange if echange.pk else None,
            "organisation": organisation,
            "retour": "intention" if initial.get("intention") else request.POST.get("retour", ""),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def echange_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A new exchange with the organisation `pk`."""
    rights.require_create(request.user, Echange)
    organisation = rights.get_visible(request.user, Organisation.objects, pk)
    return _echange_form_page(request, Echange(organisation=organisation), organisation)


@require_http_methods(["GET", "POST"])
def echange_update(request: HttpRequest, pk: int) -> HttpResponse:
    echange = _get_echange(request, pk, write=True)
    return _echange_form_page(request, echange, echange.organisation)


@require_POST
def echange_done(request: HttpRequest, pk: int) -> HttpResponse:
    echange = _get_echange(request, pk, write=True)
    intentions.echange_mark_done(user=request.user, echange=echange)
    messages.success(request, f"Étape « {echange.prochaine_etape} » marquée comme faite.")
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(_back_to_porteur(echange.organisation))


@require_http_methods(["GET", "POST"])
def echange_delete(request: HttpRequest, pk: int) -> HttpResponse:
    echange = _get_echange(request, pk, write=True)
    if request.method == "POST":
        intentions.echange_delete(user=request.user, echange=echange)
        messages.success(request, "Échange supprimé.")
        return redirect(_back_to_porteur(echange.organisation))
    return render(
        request,
        "cvu/echange_confirm_delete.html",
        {
            "echange": echange,
            "echange_label": str(echange),
            "cancel_url": _back_to_porteur(echange.organisation),
        },
    )
