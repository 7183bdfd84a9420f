from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from core.exports import FORMATS, export_response
from core.lists import paginate

from .. import conventions, figures, payments, pieces, rights, services
from ..filters import ActionFilterSet
from ..forms import ActionForm, DocumentForm, FinancementFormSet, IndicateurFormSet
from ..history import action_history
from ..models import Action, Document, Financement, NoeudStrategie
from .aap import dossier_panel


def _get_action(request: HttpRequest, pk: int, *, write: bool = False) -> Action:
    """The action if the user may see it (404 otherwise); with write, 403 if read-only."""
    return rights.get_visible(
        request.user,
        Action.objects.select_related("contrat", "programme", "porteur", "referent"),
        pk,
        write=write,
    )


def _list_queryset(user):
    return (
        Action.objects.visible_to(user)
        .select_related("porteur", "referent", "contrat")
        .prefetch_related("qpvs")
    )


ACTION_COLUMNS = [
    ("Exercice", lambda a: a.annee),
    ("Fin (pluriannuel)", lambda a: a.annee_fin),
    ("Intitulé", lambda a: a.titre),
    ("Porteur", lambda a: a.porteur.nom),
    ("SIRET porteur", lambda a: a.porteur.siret),
    ("N° Dauphin", lambda a: a.numero_dauphin),
    ("Contrat", lambda a: a.contrat.nom),
    ("QPV", lambda a: ", ".join(q.nom for q in a.qpvs.all())),
    ("Statut", lambda a: a.get_statut_display()),
    ("Référent", lambda a: str(a.referent) if a.referent else ""),
    ("Coût total (€)", lambda a: a.cout_total),
    ("Montant demandé (€)", lambda a: a.total_demande),
    ("Montant voté (€)", lambda a: a.total_vote),
    ("Montant versé (€)", lambda a: a.total_verse),
]


def action_list(request: HttpRequest) -> HttpResponse:
    filterset = ActionFilterSet(request.GET, queryset=_list_queryset(request.user))
    actions = filterset.qs
    if request.GET.get("export") in FORMATS:
        return export_response(
            actions, ACTION_COLUMNS, filename="actions", fmt=request.GET["export"], request=request
        )
    # The totals count the same lines as the rows: the year's and the funder's when filtered.
    cleaned = filterset.form.cleaned_data if filterset.is_valid() else {}
    annee = int(cleaned["annee"]) if cleaned.get("annee") is not None else None
    financeur = cleaned.get("financeur")
    totals = figures.totals(actions.values("pk"), annee=annee, financeur=financeur, count=True)
    totals_scope = " ".join(
        part
        for part in (
            f"de {financeur.nom}" if financeur else "",
            f"pour l'exercice {annee}" if annee else "tous exercices confondus",
        )
        if part
    )
    page = paginate(request, actions, count=totals["nombre"])
    context = {
        "filter": filterset,
        "page_obj": page,
        "totals": totals,
        "totals_scope": f"Montants {totals_scope} ; voté hors dossiers refusés ou retirés.",
    }
    template = "cvu/includes/_action_table.html" if request.htmx else "cvu/action_list.html"
    response = render(request, template, context)
    response["Vary"] = "HX-Request"
    return response


def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_object_or_404(
        Action.objects.visible_to(request.user)
        .select_related("contrat", "programme", "porteur", "referent", "appel", "intention")
        .prefetch_related(
            "qpvs",
            "tags",
            "indicateurs",
            Prefetch("objectifs", queryset=NoeudStrategie.objects.select_related("parent")),
            Prefetch(
                "financements", queryset=Financement.objects.select_related("financeur", "ligne")
            ),
            Prefetch("documents", queryset=Document.objects.select_related("uploaded_by")),
        ),
        pk=pk,
    )
    financements = list(action.financements.all())
    totals = {
        "demande": sum(f.montant_demande for f in financements),
        "vote": sum(f.montant_vote or 0 for f in financements),
        "verse": sum(f.montant_verse for f in financements),
    }
    can_edit = rights.may_change(request.user, action)
    context = {
        "action": action,
        "financements": financements,
        "totals": totals,
        "balance_warning": action.funding_balance(totals["demande"]),
        "can_edit": can_edit,
        "document_form": DocumentForm() if can_edit else None,
        "history": action_history(action)[:50],
        "cycle": dossier_panel(request, action) if action.appel_id else None,
        # The porteur's pieces, the convention and the payments of the dossier.
        **pieces.action_section(request.user, action),
        **conventions.action_section(request.user, action),
        **payments.action_section(request.user, action),
    }
    return render(request, "cvu/action_detail.html", context)


def _action_form_page(request: HttpRequest, action: Action | None) -> HttpResponse:
    instance = action or Action(referent=request.user if request.user.is_chef_projet else None)
    data = request.POST if request.method == "POST" else None
    form = ActionForm(data, instance=instance, user=request.user)
    financements = FinancementFormSet(data, instance=instance, prefix="fin", user=request.user)
    indicateurs = IndicateurFormSet(data, instance=instance, prefix="ind")
    stale = None
    if request.method == "POST":
        if form.is_valid() and financements.is_valid() and indicateurs.is_valid():
            try:
                saved = services.action_save(
                    form=form,
                    financements=financements,
                    indicateurs=indicateurs,
                    user=request.user,
                    loaded_at=form.cleaned_data.get("loaded_at"),
                    motif_echeance=form.cleaned_data.get("motif_echeance", ""),
                )
            except services.StaleEdit as error:
                stale = action_history(action, since=error.loaded_at)
                # Re-submitting now overwrites knowingly: the form carries the new save time.
                form.data = form.data.copy()
                form.data["loaded_at"] = error.saved_at.isoformat()
            except (PermissionDenied, ValidationError) as error:
                form.add_error(None, error if isinstance(error, ValidationError) else str(error))
            else:
                messages.success(request, "Action enregistrée.")
                return redirect(saved)
    context = {
        "form": form,
        "financements": financements,
        "indicateurs": indicateurs,
        "action": action,
        "stale": stale,
        "changements_echeance": action.changements_echeance.select_related("par")[:5]
        if action
        else [],
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "cvu/action_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def action_create(request: HttpRequest) -> HttpResponse:
    rights.require_create(request.user, Action)
    return _action_form_page(request, None)


@require_http_methods(["GET", "POST"])
def action_update(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_form_page(request, _get_action(request, pk, write=True))


@require_http_methods(["GET", "POST"])
def action_delete(request: HttpRequest, pk: int) -> HttpResponse:
    action = _get_action(request, pk, write=True)
    if request.method == "POST":
        services.action_delete(action=action)
        messages.success(request, f"L'action « {action.titre} » a été supprimée.")
        return redirect("cvu:action_list")
    return render(request, "cvu/action_confirm_delete.html", {"action": action})
