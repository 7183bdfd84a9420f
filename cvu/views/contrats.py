from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from ..models import Action, ContratDeVille, Financement, NoeudStrategie


def contrat_list(request: HttpRequest) -> HttpResponse:
    contrats = ContratDeVille.objects.visible_to(request.user).prefetch_related("signataires")
    return render(request, "cvu/contrat_list.html", {"contrats": contrats})


def _tree(nodes, amounts) -> list[dict]:
    """Nested nodes, each with its own amounts plus those of its descendants."""
    by_parent = defaultdict(list)
    for node in nodes:
        by_parent[node.parent_id].append(node)

    def build(node):
        children = [build(child) for child in by_parent[node.pk]]
        own = amounts.get(node.pk, {"demande": Decimal(0), "vote": Decimal(0), "nb": 0})
        return {
            "node": node,
            "children": children,
            "own": own,
            "vote": own["vote"] + sum(c["vote"] for c in children),
            "demande": own["demande"] + sum(c["demande"] for c in children),
        }

    return [build(root) for root in by_parent[None]]


def contrat_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contrat = get_object_or_404(
        ContratDeVille.objects.visible_to(request.user).prefetch_related("signataires"), pk=pk
    )
    years = list(range(contrat.annee_debut, contrat.annee_fin + 1))
    try:
        annee = int(request.GET.get("annee", ""))
    except ValueError:
        annee = None
    if annee not in years:
        annee = None
    lines = Financement.objects.filter(action__contrat=contrat)
    if annee:
        lines = lines.filter(annee=annee)
    # An action serving two objectives counts under each: the page says so.
    amounts = {
        row["action__objectifs"]: {
            "demande": row["demande"] or Decimal(0),
            "vote": row["vote"] or Decimal(0),
            "nb": row["nb"],
        }
        for row in lines.filter(action__objectifs__isnull=False)
        .values("action__objectifs")
        .annotate(
            demande=Sum("montant_demande"),
            vote=Sum("montant_vote"),
            nb=Count("action", distinct=True),
        )
        .order_by()
    }
    nodes = list(NoeudStrategie.objects.filter(contrat=contrat))
    totals = lines.totals()
    actions = Action.objects.filter(contrat=contrat)
    if annee:
        actions = actions.filter(Q(annee=annee) | Q(annee__lte=annee, annee_fin__gte=annee))
    context = {
        "contrat": contrat,
        "tree": _tree(nodes, amounts),
        "years": years,
        "annee": annee,
        "totals": totals,
        "nb_actions": actions.count(),
        "sans_objectif": lines.filter(action__objectifs__isnull=True).totals(),
    }
    return render(request, "cvu/contrat_detail.html", context)
