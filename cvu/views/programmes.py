from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.exports import FORMATS, export_response
from core.forms import save_if_editable
from core.lists import paginate
from quartiers.models import Commune

from .. import rights, services
from ..filters import ProgrammeFilterSet
from ..forms import ProgrammeForm
from ..models import Action, Financement, NoeudStrategie, ProgrammeActions


def _get_programme(request: HttpRequest, pk: int, *, write: bool = False) -> ProgrammeActions:
    return rights.get_visible(
        request.user,
        ProgrammeActions.objects.select_related("contrat", "secteur__chef_projet", "valide_par"),
        pk,
        write=write,
    )


PROGRAMME_COLUMNS = [
    ("Programme", lambda p: p.nom),
    ("Contrat", lambda p: p.contrat.nom),
    ("Période", lambda p: p.periode),
    ("Secteur", lambda p: p.secteur.nom if p.secteur else ""),
    ("Chef de projet", lambda p: str(p.secteur.chef_projet or "") if p.secteur else ""),
    ("Communes", lambda p: ", ".join(c.nom for c in p.communes.all())),
    ("Statut", lambda p: p.get_statut_display()),
    ("Actions", lambda p: p.nb_actions),
]


def programme_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        ProgrammeActions.objects.visible_to(request.user)
        .select_related("contrat", "secteur__chef_projet")
        .prefetch_related(Prefetch("communes", queryset=Commune.objects.order_by("nom")))
        .annotate(nb_actions=Count("actions"))
        .order_by("-annee_debut", "nom")  # Meta.ordering does not apply to GROUP BY queries.
    )
    filterset = ProgrammeFilterSet(request.GET, queryset=queryset)
    if request.GET.get("export") in FORMATS:
        return export_response(
            filterset.qs,
            PROGRAMME_COLUMNS,
            filename="programmes",
            fmt=request.GET["export"],
            request=request,
        )
    page = paginate(request, filterset.qs)
    return render(
        request,
        "cvu/programme_list.html",
        {
            "filter": filterset,
            "page_obj": page,
            "can_create": rights.may_create(request.user, ProgrammeActions),
        },
    )


def _add(bucket: dict, key, line: Financement) -> None:
    entry = bucket.setdefault(key, {"demande": Decimal(0), "vote": Decimal(0)})
    entry["demande"] += line.montant_demande
    entry["vote"] += line.montant_vote or 0


def programme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    programme = _get_programme(request, pk)
    actions = list(
        Action.objects.filter(programme=programme)
        .with_totals()
        .select_related("porteur")
        .prefetch_related("qpvs", "objectifs")
        .order_by("titre")
    )
    lines = list(
        Financement.objects.filter(action__programme=programme).select_related("financeur")
    )
    nodes = {n.pk: n for n in NoeudStrategie.objects.filter(contrat_id=programme.contrat_id)}

    def axe_of(node):
        while node.parent_id:
            node = nodes[node.parent_id]
        return node

    by_action = defaultdict(list)
    for line in lines:
        by_action[line.action_id].append(line)
    par_axe, par_qpv, par_financeur = {}, {}, {}
    for action in actions:
        axes = {axe_of(nodes[o.pk]) for o in action.objectifs.all() if o.pk in nodes}
        for line in by_action[action.pk]:
            for axe in axes or {None}:
                _add(par_axe, axe, line)
            for qpv in action.qpvs.all() or [None]:
                _add(par_qpv, qpv, line)
            _add(par_financeur, line.financeur, line)
    context = {
        "programme": programme,
        "actions": actions,
        "totals": Financement.objects.filter(action__programme=programme).totals(),
        "par_axe": sorted(par_axe.items(), key=lambda kv: (kv[0] is None, str(kv[0]))),
        "par_qpv": sorted(par_qpv.items(), key=lambda kv: (kv[0] is None, str(kv[0]))),
        "par_financeur": sorted(par_financeur.items(), key=lambda kv: -kv[1]["vote"]),
        "can_edit": ProgrammeActions.objects.editable_by(request.user).filter(pk=pk).exists(),
        "can_validate": request.user.sees_everything_as_manager,
    }
    return render(request, "cvu/programme_detail.html", context)


def _programme_form_page(request: HttpRequest, programme: ProgrammeActions | None):
    form = ProgrammeForm(
        request.POST if request.method == "POST" else None, instance=programme or ProgrammeActions()
    )
    if request.method == "POST" and form.is_valid():
        saved = save_if_editable(
            form, request.user, message="Ce programme ne relèverait plus de votre secteur."
        )
        if saved:
            messages.success(request, "Programme enregistré.")
            return redirect(saved)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "cvu/programme_form.html", {"form": form, "programme": programme}, status=status
    )


@require_http_methods(["GET", "POST"])
def programme_create(request: HttpRequest) -> HttpResponse:
    rights.require_create(request.user, ProgrammeActions)
    return _programme_form_page(request, None)


@require_http_methods(["GET", "POST"])
def programme_update(request: HttpRequest, pk: int) -> HttpResponse:
    return _programme_form_page(request, _get_programme(request, pk, write=True))


@require_POST
def programme_validate(request: HttpRequest, pk: int) -> HttpResponse:
    programme = _get_programme(request, pk)
    if request.POST.get("reopen"):
        services.programme_reopen(programme=programme, user=request.user)
        messages.success(request, "Programme rouvert : il redevient un brouillon.")
    else:
        services.programme_validate(programme=programme, user=request.user)
        messages.success(request, "Programme validé.")
    return redirect(programme)
