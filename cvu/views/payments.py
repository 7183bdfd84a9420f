"""A financing line's funder's formal act, payment schedule, payments and clawbacks: pages of the
chef de service and administrators, reached from the dossier page's "Versements" section (cvu.payments does the work
and the checks)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.templatetags.formats import euros

from .. import payments, rights
from ..forms_payments import (
    ActeForm,
    PaymentForm,
    ReversementForm,
    ReversementUpdateForm,
    ScheduleForm,
)
from ..models import Financement, Reversement, Versement


def _section_url(action) -> str:
    return f"{action.get_absolute_url()}#versements"


def _get_line(request: HttpRequest, pk: int) -> Financement:
    """The financing line (404 if invisible), for a manager only (403 for everyone else)."""
    line = rights.get_visible(
        request.user,
        Financement.objects.select_related("action", "financeur", "realise"),
        pk,
    )
    rights.require_manager(request.user)
    return line


def _get_versement(request: HttpRequest, pk: int) -> Versement:
    versement = rights.get_visible(
        request.user,
        Versement.objects.select_related("financement__action", "financement__financeur"),
        pk,
    )
    rights.require_manager(request.user)
    return versement


def _get_reversement(request: HttpRequest, pk: int) -> Reversement:
    reversement = rights.get_visible(
        request.user,
        Reversement.objects.select_related("financement__action", "financement__financeur"),
        pk,
    )
    rights.require_manager(request.user)
    return reversement


def _add_errors(form, error: ValidationError) -> None:
    """The service's errors under their fields when the form has them, else at the top."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _render(request, template, context, form) -> HttpResponse:
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, template, context, status=status)


# ---------------------------------------------------------------- the funder's act


@require_http_methods(["GET", "POST"])
def financement_acte(request: HttpRequest, pk: int) -> HttpResponse:
    """The funder's formal act (arrêté, délibération…) that grants the line's voted amount."""
    line = _get_line(request, pk)
    form = ActeForm(request.POST if request.method == "POST" else None, instance=line)
    if request.method == "POST" and form.is_valid():
        payments.record_acte(line, user=request.user, **form.cleaned_data)
        messages.success(
            request,
            f"Acte de {line.financeur} enregistré : {line.acte}."
            if line.acte
            else f"Acte de {line.financeur} effacé.",
        )
        return redirect(_section_url(line.action))
    context = {"line": line, "action": line.action, "form": form}
    return _render(request, "cvu/financement_acte.html", context, form)


# ---------------------------------------------------------------- schedule and payments


@require_http_methods(["GET", "POST"])
def versement_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    line = _get_line(request, pk)
    proposal = payments.propose_schedule(line)
    initial = {"avance_condition": Versement.Condition.NOTIFICATION}
    for tranche in proposal.tranches:
        prefix = "avance" if tranche.nature == Versement.Nature.AVANCE else "solde"
        initial[f"{prefix}_montant"] = tranche.montant
        initial[f"{prefix}_date_prevue"] = tranche.date_prevue
        if prefix == "avance":
            initial["avance_condition"] = tranche.condition
    form = ScheduleForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            created = payments.schedule(line, user=request.user, tranches=form.tranches())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                f"{len(created)} versement(s) planifié(s) pour {line.financeur} ({line.annee}).",
            )
            return redirect(_section_url(line.action))
    context = {
        "line": line,
        "action": line.action,
        "form": form,
        "proposal": proposal,
        "avance_pct": payments.DEFAULT_AVANCE_PCT,
    }
    return _render(request, "cvu/versement_schedule.html", context, form)


@require_http_methods(["GET", "POST"])
def versement_add(request: HttpRequest, pk: int) -> HttpResponse:
    """A payment that was not planned."""
    line = _get_line(request, pk)
    form = PaymentForm(
        request.POST if request.method == "POST" else None,
        initial={"date_versement": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payments.add_payment(
                line,
                date=data["date_versement"],
                montant=data["montant"],
                numero_mandat=data["numero_mandat"],
                nature=data["nature"],
                user=request.user,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                f"Versement de {euros(data['montant'])} enregistré pour {line.financeur}.",
            )
            return redirect(_section_url(line.action))
    context = {
        "line": line,
        "action": line.action,
        "form": form,
        "versement": None,
        "title": "Versement non prévu",
    }
    return _render(request, "cvu/versement_form.html", context, form)


@require_http_methods(["GET", "POST"])
def versement_record(request: HttpRequest, pk: int) -> HttpResponse:
    """A planned instalment paid (or a paid one corrected)."""
    versement = _get_versement(request, pk)
    line = versement.financement
    form = PaymentForm(
        request.POST if request.method == "POST" else None,
        planned=True,
        initial={
            "date_versement": versement.date_versement or timezone.localdate(),
            "montant": versement.montant,
            "numero_mandat": versement.numero_mandat,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payments.record_payment(
                versement,
                date=data["date_versement"],
                montant=data["montant"],
                numero_mandat=data["numero_mandat"],
                user=request.user,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                f"{versement.get_nature_display()} de {euros(data['montant'])} enregistré(e) "
                f"comme versé(e) le {data['date_versement']:%d/%m/%Y}.",
            )
            return redirect(_section_url(line.action))
    context = {
        "line": line,
        "action": line.action,
        "form": form,
        "versement": versement,
        "title": "Corriger le versement" if versement.paye else "Enregistrer le versement",
    }
    return _render(request, "cvu/versement_form.html", context, form)


@require_http_methods(["GET", "POST"])
def versement_delete(request: HttpRequest, pk: int) -> HttpResponse:
    versement = _get_versement(request, pk)
    action = versement.financement.action
    if request.method == "POST":
        payments.delete_versement(versement, user=request.user)
        messages.success(
            request, "Versement supprimé ; le montant versé de la ligne est recalculé."
        )
        return redirect(_section_url(action))
    line = versement.financement
    when = (
        f"versé le {versement.date_versement:%d/%m/%Y}, mandat n° {versement.numero_mandat}"
        if versement.paye
        else "prévu"
    )
    text = (
        f"{versement.get_nature_display()} de {euros(versement.montant)} ({line.financeur}, "
        f"{line.annee}), {when} : il sera supprimé et le montant versé de la ligne recalculé."
    )
    return render(
        request,
        "cvu/versement_confirm_delete.html",
        {"text": text, "action": action, "cancel_url": _section_url(action)},
    )


# ---------------------------------------------------------------- clawbacks


@require_http_methods(["GET", "POST"])
def reversement_request(request: HttpRequest, pk: int) -> HttpResponse:
    line = _get_line(request, pk)
    proposed = payments.reversement_proposed(line)
    used = payments.spent(line)
    motif = (
        f"Le bilan fait apparaître {euros(used)} utilisés pour {euros(line.montant_verse)} versés."
        if used is not None
        else ""
    )
    form = ReversementForm(
        request.POST if request.method == "POST" else None,
        initial={
            "montant": proposed or None,
            "motif": motif,
            "date_demande": timezone.localdate(),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payments.request_reversement(
                line,
                montant=data["montant"],
                motif=data["motif"],
                date_demande=data["date_demande"],
                user=request.user,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                f"Reversement de {euros(data['montant'])} demandé à {line.action.porteur}.",
            )
            return redirect(_section_url(line.action))
    context = {
        "line": line,
        "action": line.action,
        "form": form,
        "proposed": proposed,
        "spent": used,
    }
    return _render(request, "cvu/reversement_form.html", context, form)


@require_http_methods(["GET", "POST"])
def reversement_update(request: HttpRequest, pk: int) -> HttpResponse:
    reversement = _get_reversement(request, pk)
    action = reversement.financement.action
    steps = payments.REVERSEMENT_STEPS[Reversement.Statut(reversement.statut)]
    if not steps:
        messages.error(
            request, f"Ce reversement est « {reversement.get_statut_display()} » : il est clos."
        )
        return redirect(_section_url(action))
    form = ReversementUpdateForm(
        request.POST if request.method == "POST" else None,
        steps=steps,
        initial={"numero_titre": reversement.numero_titre},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = payments.update_reversement(
                reversement,
                statut=data["statut"],
                numero_titre=data["numero_titre"],
                date_recouvrement=data["date_recouvrement"],
                user=request.user,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Reversement « {saved.get_statut_display()} ».")
            return redirect(_section_url(action))
    context = {"reversement": reversement, "action": action, "form": form}
    return _render(request, "cvu/reversement_update.html", context, form)
