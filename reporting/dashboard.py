"""The service head's dashboard: the contract's figures for a year, computed in the database.

Each section is a function returning a `Section` (title, rows, chart); the page draws every
section the same way, as a chart with its numbers in a table beside it. The number of queries
does not depend on the amount of data.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from cvu.aap import AWAITING_BILAN, label
from cvu.models import Action, Enveloppe, Financement, NoeudStrategie, SuiteADonner
from participation import services as participation
from participation.models import ConseilCitoyen, Demarche, PresenceMembre
from quartiers.models import Commune, Qpv

ZERO = Decimal("0.00")
AMOUNTS = ("demande", "vote", "verse")


@dataclass
class Row:
    label: str
    url: str = ""
    values: dict = field(default_factory=dict)  # column key -> number
    badge: str = ""  # a status colour for the row (councils)
    obj: object = None  # the object behind the row, when a report needs more of it


@dataclass
class Section:
    key: str
    title: str
    columns: list[tuple[str, str]]  # (key, header); amounts are formatted in euros
    rows: list[Row]
    chart: str = "bar"  # Chart.js type
    note: str = ""
    euros: bool = True
    list_url: str = ""

    @property
    def table(self) -> list[tuple[Row, list]]:
        """Each row with its values in column order, for the accessible table."""
        return [(row, [row.values.get(key) for key, _ in self.columns]) for row in self.rows]

    def chart_data(self) -> dict:
        """What static/js/dashboard.js draws: labels, one dataset per column, links."""
        return {
            "type": self.chart,
            "euros": self.euros,
            "labels": [row.label for row in self.rows],
            "urls": [row.url for row in self.rows],
            "datasets": [
                {"label": header, "data": [float(row.values.get(key) or 0) for row in self.rows]}
                for key, header in self.columns
            ],
        }


@dataclass
class Scope:
    """What the dashboard looks at: a contract and a year, optionally a sector or a commune."""

    contrat: object
    annee: int
    secteur: object = None
    commune: object = None

    def actions(self):
        queryset = Action.objects.filter(contrat=self.contrat).filter(
            Q(annee=self.annee) | Q(annee__lte=self.annee, annee_fin__gte=self.annee)
        )
        if self.commune is not None:
            queryset = queryset.filter(
                pk__in=Action.qpvs.through.objects.filter(qpv__communes=self.commune).values(
                    "action_id"
                )
            )
        elif self.secteur is not None:
            queryset = queryset.filter(
                pk__in=Action.qpvs.through.objects.filter(
                    qpv__communes__secteur=self.secteur
                ).values("action_id")
            )
        return queryset

    def lines(self):
        return Financement.objects.filter(action__in=self.actions(), annee=self.annee)

    def list_url(self, **params) -> str:
        """The action list filtered like the dashboard, plus params."""
        query = {"contrat": self.contrat.pk, "annee": self.annee}
        if self.commune is not None:
            query["commune"] = self.commune.pk
        elif self.secteur is not None:
            query["secteur"] = self.secteur.pk
        query.update(params)
        return reverse("cvu:action_list") + "?" + urlencode(query, doseq=True)


def _sums(queryset, *group) -> list[dict]:
    return list(
        queryset.values(*group)
        .annotate(
            demande=Coalesce(Sum("montant_demande"), ZERO),
            vote=Coalesce(Sum("montant_vote"), ZERO),
            verse=Coalesce(Sum("montant_verse"), ZERO),
        )
        .order_by()
    )


def amounts_by_action(scope: Scope) -> dict[int, dict]:
    """Requested / voted / paid of each action for the year (one query)."""
    return {row["action"]: row for row in _sums(scope.lines(), "action")}


def _spread(per_action: dict, links, key_label: dict, url_for) -> list[Row]:
    """Adds each action's amounts to every group it belongs to (an action serving two axes or
    two QPVs counts in each)."""
    totals: dict = defaultdict(lambda: dict.fromkeys(AMOUNTS, ZERO))
    for action_id, group in links:
        amounts = per_action.get(action_id)
        if amounts is None or group not in key_label:
            continue
        for name in AMOUNTS:
            totals[group][name] += amounts[name]
    rows = [Row(key_label[group], url_for(group), dict(values)) for group, values in totals.items()]
    return sorted(rows, key=lambda row: row.label)


AMOUNT_COLUMNS = [("demande", "Demandé"), ("vote", "Voté"), ("verse", "Versé")]
SHARED_NOTE = (
    "Une action qui concerne plusieurs {what} compte entièrement dans chacun : le total de ce "
    "tableau peut dépasser celui du contrat."
)


def by_axe(scope: Scope, per_action: dict) -> Section:
    nodes = {n.pk: n for n in NoeudStrategie.objects.filter(contrat=scope.contrat)}

    def axe_of(pk):
        node = nodes.get(pk)
        while node is not None and node.parent_id:
            node = nodes.get(node.parent_id)
        return node.pk if node is not None else None

    links = {
        (action_id, axe_of(node_id))
        for action_id, node_id in Action.objectifs.through.objects.filter(
            action_id__in=list(per_action)
        ).values_list("action_id", "noeudstrategie_id")
    }
    axes = {pk: str(n) for pk, n in nodes.items() if n.parent_id is None}
    rows = _spread(per_action, links, axes, lambda pk: scope.list_url(objectif=pk))
    return Section(
        "axes",
        f"Montants par {scope.contrat.libelle_axe}",
        AMOUNT_COLUMNS,
        rows,
        note=SHARED_NOTE.format(what=f"{scope.contrat.libelle_axe}s"),
    )


def by_qpv(scope: Scope, per_action: dict) -> Section:
    links = list(
        Action.qpvs.through.objects.filter(action_id__in=list(per_action)).values_list(
            "action_id", "qpv_id"
        )
    )
    names = dict(Qpv.objects.filter(pk__in={q for _, q in links}).values_list("pk", "nom"))
    rows = _spread(per_action, links, names, lambda pk: scope.list_url(qpv=pk))
    return Section(
        "qpv",
        "Montants par QPV",
        AMOUNT_COLUMNS,
        rows,
        chart="bar",
        note=SHARED_NOTE.format(what="QPV"),
    )


def by_commune(scope: Scope, per_action: dict) -> Section:
    links = set(
        Action.qpvs.through.objects.filter(action_id__in=list(per_action)).values_list(
            "action_id", "qpv__communes"
        )
    )
    names = dict(Commune.objects.filter(pk__in={c for _, c in links if c}).values_list("pk", "nom"))
    rows = _spread(per_action, links, names, lambda pk: scope.list_url(commune=pk))
    return Section(
        "communes",
        "Montants par commune",
        AMOUNT_COLUMNS,
        rows,
        note=SHARED_NOTE.format(what="communes"),
    )


def by_funder(scope: Scope) -> Section:
    """Per funder, against its envelope in the year's call for projects."""
    envelopes = dict(
        Enveloppe.objects.filter(appel__contrat=scope.contrat, appel__annee=scope.annee)
        .values("financeur")
        .annotate(total=Sum("montant"))
        .values_list("financeur", "total")
    )
    rows = []
    for row in sorted(
        _sums(scope.lines(), "financeur", "financeur__nom", "financeur__sigle"),
        key=lambda r: r["financeur__nom"],
    ):
        values = {name: row[name] for name in AMOUNTS}
        values["enveloppe"] = envelopes.get(row["financeur"])
        rows.append(
            Row(
                row["financeur__sigle"] or row["financeur__nom"],
                scope.list_url(financeur=row["financeur"]),
                values,
            )
        )
    return Section(
        "financeurs",
        "Montants par financeur, face aux enveloppes de l'appel à projets",
        [("enveloppe", "Enveloppe"), *AMOUNT_COLUMNS],
        rows,
    )


def by_status(scope: Scope) -> Section:
    counts = dict(
        scope.actions().values("statut").annotate(n=Count("pk")).values_list("statut", "n")
    )
    rows = [
        Row(
            label(statut),
            scope.list_url(statut=statut),
            {"nombre": counts[statut]},
        )
        for statut, _ in Action.Statut.choices
        if counts.get(statut)
    ]
    return Section(
        "statuts",
        "Dossiers par statut",
        [("nombre", "Dossiers")],
        rows,
        chart="doughnut",
        euros=False,
    )


def late_bilans(scope: Scope) -> Section:
    """Bilans past their deadline, all years of the contract, per referent chef de projet."""
    late = Action.objects.filter(
        contrat=scope.contrat,
        statut__in=AWAITING_BILAN,
        date_limite_bilan__lt=timezone.localdate(),
    )
    if scope.commune is not None or scope.secteur is not None:
        late = late.filter(pk__in=_in_territory(scope))
    rows = [
        Row(
            f"{row['referent__first_name']} {row['referent__last_name']}".strip()
            or "Sans référent",
            reverse("cvu:action_list")
            + "?"
            + urlencode(
                {
                    "contrat": scope.contrat.pk,
                    "bilan": "en_retard",
                    "referent": row["referent"] or "",
                }
            ),
            {"nombre": row["n"]},
        )
        for row in late.values("referent", "referent__first_name", "referent__last_name")
        .annotate(n=Count("pk"))
        .order_by("referent__last_name")
    ]
    return Section(
        "bilans",
        "Bilans en retard par chef de projet",
        [("nombre", "Bilans en retard")],
        rows,
        euros=False,
        list_url=reverse("cvu:action_list")
        + "?"
        + urlencode({"contrat": scope.contrat.pk, "bilan": "en_retard"}),
    )


def _in_territory(scope: Scope):
    through = Action.qpvs.through.objects
    if scope.commune is not None:
        return through.filter(qpv__communes=scope.commune).values("action_id")
    return through.filter(qpv__communes__secteur=scope.secteur).values("action_id")


def overdue_follow_ups() -> Section:
    rows = [
        Row(
            f"{row['responsable__first_name']} {row['responsable__last_name']}".strip()
            or "Partenaire",
            reverse("cvu:suite_list")
            + "?"
            + urlencode({"responsable": row["responsable"] or "", "en_retard": "true"}),
            {"nombre": row["n"]},
        )
        for row in SuiteADonner.objects.overdue()
        .values("responsable", "responsable__first_name", "responsable__last_name")
        .annotate(n=Count("pk"))
        .order_by("responsable__last_name")
    ]
    return Section(
        "suites",
        "Suites à donner en retard par responsable",
        [("nombre", "En retard")],
        rows,
        euros=False,
        list_url=reverse("cvu:suite_list") + "?en_retard=true",
    )


COLOURS = {"vert": "conforme", "orange": "à surveiller", "rouge": "non conforme"}


def council_rows(queryset) -> tuple[list[Row], int]:
    """Each council's representativeness (worst rule) and its members' presence in steering
    instances over the last 12 months; and the number of those meetings. Constant queries."""
    conseils = list(
        queryset.select_related("type", "commune")
        .prefetch_related("qpvs", "membres")
        .order_by("commune__nom", "nom")
    )
    jeunes = participation.young_share_by_conseil(conseils)
    meetings = list(
        participation.steering_meetings(since=timezone.now() - timedelta(days=365))
        .distinct()
        .values_list("pk", flat=True)
    )
    attended = defaultdict(set)
    for conseil_id, reunion_id in PresenceMembre.objects.filter(
        reunion__in=meetings, statut="present", membre__conseil__in=conseils
    ).values_list("membre__conseil", "reunion"):
        attended[conseil_id].add(reunion_id)
    rows = []
    for conseil in conseils:
        regles = participation.representativite(
            conseil, list(conseil.membres.all()), part_moins_25_qpv=jeunes.get(conseil.pk)
        )
        colour = participation.worst(regles)
        rate = round(100 * len(attended[conseil.pk]) / len(meetings)) if meetings else None
        rows.append(
            Row(
                conseil.nom,
                conseil.get_absolute_url(),
                {
                    "presence": rate,
                    "etat": COLOURS[colour],
                    "raisons": [r.raison for r in regles if r.statut == "rouge"],
                },
                badge=colour,
                obj=conseil,
            )
        )
    return rows, len(meetings)


def councils(scope: Scope) -> Section:
    queryset = ConseilCitoyen.objects.all()
    if scope.commune is not None:
        queryset = queryset.filter(commune=scope.commune)
    elif scope.secteur is not None:
        queryset = queryset.filter(commune__secteur=scope.secteur)
    rows, meetings = council_rows(queryset)
    return Section(
        "conseils",
        "Conseils citoyens : représentativité et présence dans les instances de pilotage",
        [("presence", "Présence (% des réunions, 12 mois)")],
        rows,
        euros=False,
        note=f"{meetings} réunion(s) d'instances de pilotage tenue(s) sur 12 mois.",
        list_url=reverse("participation:conseil_list"),
    )


def demarches(scope: Scope) -> Section:
    queryset = Demarche.objects.all()
    if scope.commune is not None:
        queryset = queryset.filter(communes=scope.commune)
    elif scope.secteur is not None:
        queryset = queryset.filter(communes__secteur=scope.secteur).distinct()
    counts = dict(
        queryset.values("statut").annotate(n=Count("pk", distinct=True)).values_list("statut", "n")
    )
    rows = [
        Row(
            name,
            reverse("participation:demarche_list") + "?" + urlencode({"statut": value}),
            {"nombre": counts[value]},
        )
        for value, name in Demarche.Statut.choices
        if counts.get(value)
    ]
    return Section(
        "demarches",
        "Démarches participatives par statut",
        [("nombre", "Démarches")],
        rows,
        chart="doughnut",
        euros=False,
        list_url=reverse("participation:demarche_list"),
    )


def dashboard(scope: Scope) -> dict:
    """Every section of the dashboard, and the year's totals."""
    per_action = amounts_by_action(scope)
    totals = {name: sum((a[name] for a in per_action.values()), ZERO) for name in AMOUNTS}
    return {
        "totals": totals,
        "nb_actions": len(per_action),
        "sections": [
            by_funder(scope),
            by_axe(scope, per_action),
            by_qpv(scope, per_action),
            by_commune(scope, per_action),
            by_status(scope),
            late_bilans(scope),
            overdue_follow_ups(),
            councils(scope),
            demarches(scope),
        ],
    }
