"""Conventions of the collectivité's own grants: the templates, and a dossier's convention
(establish, re-edit, signatures). Payments are in cvu.views.payments."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.lists import paginate

from .. import conventions, rights
from ..forms_conventions import (
    ConventionEstablishForm,
    ConventionSignForm,
    ConventionUpdateForm,
    ModeleConventionForm,
)
from ..models import Action, Convention, ModeleConvention


def _section_url(action: Action) -> str:
    return f"{action.get_absolute_url()}#convention"


def _get_action(request: HttpRequest, pk: int) -> Action:
    """The dossier, for the chef de service (404 if invisible, 403 for everyone else)."""
    action = rights.get_visible(
        request.user,
        Action.objects.select_related("porteur", "contrat", "appel").prefetch_related(
            "financements"
        ),
        pk,
    )
    rights.require_manager(request.user)
    return action


def _get_convention(request: HttpRequest, pk: int) -> Convention:
    convention = rights.get_visible(
        request.user,
        Convention.objects.select_related("action__porteur", "action__contrat", "modele"),
        pk,
    )
    rights.require_manager(request.user)
    return convention


# ---------------------------------------------------------------- templates


def modele_list(request: HttpRequest) -> HttpResponse:
    modeles = ModeleConvention.objects.visible_to(request.user).order_by("type", "nom", "pk")
    return render(
        request,
        "cvu/modele_convention_list.html",
        {
            "page_obj": paginate(request, modeles),
            "can_edit": rights.is_manager(request.user),
        },
    )


def modele_detail(request: HttpRequest, pk: int) -> HttpResponse:
    modele = rights.get_visible(request.user, ModeleConvention.objects, pk)
    return render(
        request,
        "cvu/modele_convention_detail.html",
        {
            "modele": modele,
            "placeholders": conventions.PLACEHOLDERS,
            "can_edit": rights.may_change(request.user, modele),
        },
    )


def _modele_form_page(request: HttpRequest, modele: ModeleConvention | None) -> HttpResponse:
    form = ModeleConventionForm(request.POST if request.method == "POST" else None, instance=modele)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, f"Modèle « {saved} » enregistré.")
        return redirect("cvu:modele_convention_detail", pk=saved.pk)
    return render(
        request,
        "cvu/modele_convention_form.html",
        {"form": form, "modele": modele, "placeholders": conventions.PLACEHOLDERS},
    )


@require_http_methods(["GET", "POST"])
def modele_create(request: HttpRequest) -> HttpResponse:
    rights.require_manager(request.user)
    return _modele_form_page(request, None)


@require_http_methods(["GET", "POST"])
def modele_update(request: HttpRequest, pk: int) -> HttpResponse:
    modele = rights.get_visible(request.user, ModeleConvention.objects, pk, write=True)
    return _modele_form_page(request, modele)


# ---------------------------------------------------------------- a dossier's convention


@require_http_methods(["GET", "POST"])
def convention_create(request: HttpRequest, pk: int) -> HttpResponse:
    action = _get_action(request, pk)
    existing = Convention.objects.filter(action=action).first()
    if existing is not None:
        return redirect("cvu:convention_update", pk=existing.pk)
    giver = conventions.collectivite(action.contrat)
    refusal = conventions.establishment_refusal(action, giver)
    if refusal:
        messages.error(request, refusal)
        return redirect(_section_url(action))
    form = ConventionEstablishForm(
        request.POST if request.method == "POST" else None,
        initial={"modele": conventions.default_modele(action)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            conventions.convention_establish(
                action=action,
                modele=form.cleaned_data["modele"],
                numero=form.cleaned_data["numero"],
                reference_decision=form.cleaned_data["reference_decision"],
                date_decision=form.cleaned_data["date_decision"],
                user=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, "Convention établie : son PDF est rangé parmi les documents du dossier."
            )
            return redirect(_section_url(action))
    amounts = conventions.voted_by_year(action, giver)
    return render(
        request,
        "cvu/convention_form.html",
        {
            "action": action,
            "form": form,
            "collectivite": giver,
            "montants": list(amounts.items()),
            "total": sum(amounts.values()),
            "has_modeles": ModeleConvention.objects.filter(actif=True).exists(),
        },
    )


@require_http_methods(["GET", "POST"])
def convention_update(request: HttpRequest, pk: int) -> HttpResponse:
    convention = _get_convention(request, pk)
    action = convention.action
    if convention.statut == Convention.Statut.SIGNEE:
        messages.error(request, "La convention est signée : son texte ne se modifie plus.")
        return redirect(_section_url(action))
    form = ConventionUpdateForm(
        request.POST if request.method == "POST" else None, instance=convention
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            conventions.convention_rebuild(
                convention=convention,
                texte=data["texte"],
                numero=data["numero"],
                reference_decision=data["reference_decision"],
                date_decision=data["date_decision"],
                modele=data["modele"] if data["refaire"] else None,
                user=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                "Convention modifiée : un nouveau PDF est rangé parmi les documents du dossier, "
                "le précédent y reste.",
            )
            return redirect(_section_url(action))
    return render(
        request,
        "cvu/convention_update.html",
        {"action": action, "convention": convention, "form": form},
    )


@require_http_methods(["GET", "POST"])
def convention_sign(request: HttpRequest, pk: int) -> HttpResponse:
    convention = _get_convention(request, pk)
    action = convention.action
    form = ConventionSignForm(
        request.POST if request.method == "POST" else None,
        request.FILES or None,
        instance=convention,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transition = conventions.convention_sign(
                convention=convention,
                date_signature_porteur=data["date_signature_porteur"],
                date_signature_collectivite=data["date_signature_collectivite"],
                upload=data.get("fichier"),
                content_type=form.content_type,
                user=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            message = "Signatures enregistrées."
            if transition is not None:
                message += " Le dossier passe à « Conventionné »."
            messages.success(request, message)
            return redirect(_section_url(action))
    return render(
        request,
        "cvu/convention_signatures.html",
        {"action": action, "convention": convention, "form": form},
        status=400 if request.method == "POST" else 200,
    )
