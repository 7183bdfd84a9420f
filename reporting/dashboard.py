"""The service head's dashboard: the contract's figures for a year.

The amounts come from cvu.figures, like those of the call page, the programming export and the
bilan de programmation, so that every screen agrees to the cent. Each section is a function returning a `Section` (title, rows, chart); the page draws every
section the same way, as a chart with its numbers in a table beside it. The number of queries
does not depend on the amount of data.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from core import versions
from core.querysets import alphabetical
from core.templatetags.formats import euros
from cvu import figures
from cvu.models import Action, SuiteADonner
from participation import services as participation
from participation.models import ConseilCitoyen, Demarche, PresenceMembre

ZERO = figures.ZERO


@dataclass
class Row:
    label: str
    url: str = ""
    values: dict = field(default_factory=dict)  # column key -> number
    badge: str = ""  # a status colour for the row (councils)
    obj: object = None  # the object behind the row, when a report needs more of it
    abbr: str = ""  # a short name shown beside the label (funders' sigles)
    alert: str = ""  # what is wrong with the row, in words (an envelope overrun)


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
    counts: tuple[str, ...] = ()  # columns holding counts in a section of amounts
    percents: tuple[str, ...] = ()  # columns holding whole percentages
    charted: tuple[str, ...] = ()  # columns drawn on the chart (all when empty)
    wide: bool = False  # the table takes the page's width, its chart goes below
    alerted: tuple[str, ...] = ()  # columns shown in red (with the row's alert in words)

    @property
    def chart_height(self) -> float:
        """In rem: bar charts grow with their rows, so that no bar is squeezed."""
        if self.chart == "doughnut":
            return 18
        datasets = len(self.charted or self.columns)
        return max(12.0, 4 + len(self.rows) * (0.8 * datasets + 0.6))

    def kind(self, key: str) -> str:
        if key in self.percents:
            return "percent"
        if key in self.counts or not self.euros:
            return "count"
        return "euros"

    @property
    def table(self) -> list[tuple[Row, list]]:
        """Each row with its (value, kind, in alert) cells in column order, for the table."""
        return [
            (
                row,
                [
                    (row.values.get(key), self.kind(key), bool(row.alert) and key in self.alerted)
                    for key, _ in self.columns
                ],
            )
            for row in self.rows
        ]

    @property
    def summary(self) -> str:
        """The chart in words, for people who cannot see it: per charted column, the highest and
        lowest rows (the table beside it holds every value)."""
        sentences = []
        for key, header in self.columns:
            if self.charted and key not in self.charted:
                continue
            valued = [(row.values.get(key) or 0, row.abbr or row.label) for row in self.rows]
            if not valued:
                continue
            high, low = max(valued), min(valued)
            show = {"euros": euros, "percent": lambda v: f"{v} %"}.get(self.kind(key), str)
            if len(valued) > 1 and high[0] == low[0]:
                sentences.append(f"{header} : {show(high[0])} sur chaque ligne.")
                continue
            sentence = f"{header} : le plus élevé est {high[1]} ({show(high[0])})"
            if len(valued) > 1:
                sentence += f", le plus faible {low[1]} ({show(low[0])})"
            sentences.append(sentence + ".")
        return f"{len(self.rows)} ligne{'s' if len(self.rows) > 1 else ''}. " + " ".join(sentences)

    def chart_data(self) -> dict:
        """What static/js/dashboard.js draws: labels, one dataset per column, links."""
        columns = [(k, h) for k, h in self.columns if not self.charted or k in self.charted]
        return {
            "type": self.chart,
            "euros": self.euros,
            "labels": [row.abbr or row.label for row in self.rows],
            "urls": [row.url for row in self.rows],
            "datasets": [
                {"label": header, "data": [float(row.values.get(key) or 0) for row in self.rows]}
                for key, header in columns
            ],
        }


@dataclass
class Scope:
    """What the dashboard looks at: a contract and a year, optionally a sector or a commune."""

    contrat: object
    annee: int
    secteur: object = None
    commune: object = None

    @cached_property
    def chiffres(self) -> figures.Chiffres:
        """The year's amounts, computed once by cvu.figures like on every other screen."""
        return figures.Chiffres(
            self.contrat, self.annee, secteur=self.secteur, commune=self.commune
        )

    @cached_property
    def synthese(self) -> figures.Synthese:
        """The year's summary (amounts per funder, axe, QPV, commune, status; counts;
        beneficiaries), kept in the cache while the data does not change."""
        return figures.synthese(self.chiffres)

    @property
    def territorial(self) -> bool:
        return self.secteur is not None or self.commune is not None

    def actions(self):
        return self.chiffres.dossiers()

    def list_url(self, **params) -> str:
        """The action list filtered like the dashboard, plus params."""
        query = {"contrat": self.contrat.pk, "annee": self.annee}
        if self.commune is not None:
            query["commune"] = self.commune.pk
        elif self.secteur is not None:
            query["secteur"] = self.secteur.pk
        query.update(params)
        return reverse("cvu:action_list") + "?" + urlencode(query, doseq=True)


AMOUNT_COLUMNS = [("demande", "Demandé"), ("vote", "Voté"), ("verse", "Versé")]
SHARED_NOTE = (
    "Une action qui concerne plusieurs {what} compte entièrement dans chacun : le total de ce "
    "tableau peut dépasser celui du contrat."
)


def _group_rows(groups, url_for) -> list[Row]:
    return [
        Row(group.label, url_for(group.key), group.montants.as_dict(), obj=group)
        for group in groups
    ]


def by_axe(scope: Scope) -> Section:
    rows = _group_rows(scope.synthese.par_axe, lambda pk: scope.list_url(objectif=pk))
    return Section(
        "axes",
        f"Montants par {scope.contrat.libelle_axe}",
        AMOUNT_COLUMNS,
        rows,
        note=SHARED_NOTE.format(what=f"{scope.contrat.libelle_axe}s"),
    )


def by_qpv(scope: Scope) -> Section:
    rows = _group_rows(scope.synthese.par_qpv, lambda pk: scope.list_url(qpv=pk))
    return Section(
        "qpv", "Montants par QPV", AMOUNT_COLUMNS, rows, note=SHARED_NOTE.format(what="QPV")
    )


def by_commune(scope: Scope) -> Section:
    rows = _group_rows(scope.synthese.par_commune, lambda pk: scope.list_url(commune=pk))
    return Section(
        "communes",
        "Montants par commune",
        AMOUNT_COLUMNS,
        rows,
        note=SHARED_NOTE.format(what="communes"),
    )


def by_funder(scope: Scope) -> Section:
    """Per funder, against its envelope in the year's call for projects: what is left, the share
    consumed, and each overrun said in words."""
    rows = []
    for line in scope.synthese.par_financeur:
        financeur = line.financeur
        values = {
            "enveloppe": line.montant,
            "demande": line.demande,
            "vote": line.vote,
            "verse": line.verse,
            "reste": line.reste,
            "taux": line.taux,
        }
        rows.append(
            Row(
                line.nom,
                scope.list_url(financeur=financeur.pk) if line.lignes else "",
                values,
                obj=line,
                abbr=line.abrege if line.abrege != line.nom else "",
                alert=f"Enveloppe dépassée de {euros(line.vote - line.montant)}"
                if line.depasse
                else "",
            )
        )
    overruns = sum(1 for row in rows if row.alert)
    with_envelope = sum(1 for row in rows if row.values["enveloppe"] is not None)
    if scope.territorial:
        note = (
            "Les enveloppes portent sur tout le contrat : elles ne sont comparées aux montants "
            "votés que sans secteur ni commune choisis."
        )
    elif overruns:
        note = f"{overruns} enveloppe(s) dépassée(s) sur {with_envelope}."
    else:
        note = ""
    return Section(
        "financeurs",
        "Montants par financeur, face aux enveloppes de l'appel à projets",
        [
            ("enveloppe", "Enveloppe"),
            *AMOUNT_COLUMNS,
            ("reste", "Reste"),
            ("taux", "Consommé"),
        ],
        rows,
        note=note,
        percents=("taux",),
        charted=("enveloppe", "demande", "vote"),
        wide=True,
        alerted=("reste", "taux"),
    )


def by_status(scope: Scope) -> Section:
    rows = [
        Row(
            group.label,
            scope.list_url(statut=group.key),
            {"nombre": group.nombre, **group.montants.as_dict()},
            obj=group,
        )
        for group in scope.synthese.par_statut
    ]
    return Section(
        "statuts",
        "Dossiers par statut",
        [("nombre", "Dossiers"), *AMOUNT_COLUMNS],
        rows,
        chart="doughnut",
        counts=("nombre",),
        charted=("nombre",),
        note="Un dossier refusé ou retiré ne compte pour aucun montant voté.",
    )


def late_bilans(scope: Scope) -> Section:
    """Bilans past their deadline, all years of the contract, per referent chef de projet."""
    late = Action.objects.bilan_en_retard().filter(contrat=scope.contrat)
    late = figures.in_territory(late, secteur=scope.secteur, commune=scope.commune)
    # Counted by referent alone and kept for the data's version (the day is in the query):
    # 35 ms over the 46,000 late dossiers at ten times PMA's history. The names are read apart,
    # from the users table, whose writes do not raise the version.
    grouped = (
        late.order_by().values("referent").annotate(n=Count("pk")).values_list("referent", "n")
    )
    counts = versions.cached_query("bilans_en_retard", grouped, lambda: list(grouped))
    # Names in French order (É with E), read apart; "Sans référent" last.
    users = alphabetical(
        get_user_model()
        .objects.filter(pk__in=[referent for referent, _ in counts if referent is not None])
        .only("first_name", "last_name"),
        field="last_name",
    )
    names = {user.pk: f"{user.first_name} {user.last_name}".strip() for user in users}
    rank = {pk: i for i, pk in enumerate(names)}  # dicts keep the users' order
    rows = [
        Row(
            names.get(referent) or "Sans référent",
            reverse("cvu:action_list")
            + "?"
            + urlencode(
                {
                    "contrat": scope.contrat.pk,
                    "bilan": "en_retard",
                    "referent": referent or "",
                }
            ),
            {"nombre": n},
        )
        for referent, n in sorted(counts, key=lambda item: rank.get(item[0], len(rank)))
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
        .prefetch_related("qpvs")
        .order_by("commune__nom", "nom")
    )
    jeunes = participation.young_share_by_conseil(conseils)
    compositions = participation.compositions(conseils)
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
            conseil,
            compositions.get(conseil.pk, participation.Composition()),
            part_jeunes_qpv=jeunes.get(conseil.pk),
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
    synthese = scope.synthese
    funders = by_funder(scope)
    return {
        "totals": synthese.total.as_dict(),
        "nb_dossiers": synthese.nb_dossiers,
        "nb_actions": synthese.nb_financees,
        "beneficiaires": synthese.beneficiaires,
        "cpo": {
            "nombre": synthese.nb_cpo,
            "part": synthese.part_cpo,
            "objectif": figures.OBJECTIF_CPO,
        },
        "overruns": [row for row in funders.rows if row.alert],
        "sections": [
            funders,
            by_axe(scope),
            by_qpv(scope),
            by_commune(scope),
            by_status(scope),
            late_bilans(scope),
            overdue_follow_ups(),
            councils(scope),
            demarches(scope),
        ],
    }
