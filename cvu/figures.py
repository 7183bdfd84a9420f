"""One set of figures: what a contract's year asks, proposes, votes and pays.

The dashboard, the call page, the programming export, the bilan de programmation and the
totals of the action list all read their amounts here, so that every screen gives the same
figure to the cent. The rules (also in the README, « Les chiffres ») :

- an amount belongs to the year of its financing line (`Financement.annee`), whatever the
  exercise of its action;
- the dossiers of a year are the contract's actions with a financing line that year, or whose
  period covers it, attached to the year's call for projects or not;
- a refused or withdrawn dossier votes nothing: a voted amount left on its lines does not count;
- a dossier is « financé » for the year when what it counts as voted that year is above zero.

`Chiffres` reads the lines once and adds them up in Python, each breakdown costing one or two
more queries when it is first asked for: the number of queries does not depend on the data.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from core import versions
from quartiers.models import Qpv

from .models import (
    Action,
    BeneficiairesQpv,
    Bilan,
    Enveloppe,
    Financement,
    IndicateurAction,
    LigneFinancement,
    NoeudStrategie,
    Organisation,
)
from .models.aap import BENEFICIAIRES

ZERO = Decimal("0.00")
S = Action.Statut
# Their voted amounts do not count: the committee said no, or the porteur gave up.
NOT_FUNDED = (S.REFUSE, S.RETIRE)
# The share of funded dossiers to run as multi-year conventions (CPO), in % (circulaire of 31
# August 2023 on the contrats de ville « Engagements Quartiers 2030 »).
OBJECTIF_CPO = 50
AMOUNTS = ("demande", "propose", "vote", "verse")


# ---------------------------------------------------------------- querysets


def of_year(queryset, annee: int):
    """The actions concerned by a year: a financing line that year, or the year in their period."""
    # Measured at ten times PMA's history: PostgreSQL answers the third branch with a hashed
    # index-only scan of the year's lines (50 ms for every action); written = ANY(ARRAY(…)) to
    # combine it with the indexes, it became a filter testing each row against an array of
    # 18,000 ids whenever the plan followed the list's order (1.5 s for one page).
    return queryset.filter(
        Q(annee=annee)
        | Q(annee__lte=annee, annee_fin__gte=annee)
        | Q(pk__in=Financement.objects.filter(annee=annee).values("action_id"))
    )


def in_territory(queryset, *, secteur=None, commune=None):
    """The actions with a QPV in the commune, or else in the sector (unchanged without either)."""
    through = Action.qpvs.through.objects
    if commune is not None:
        return queryset.filter(pk__in=through.filter(qpv__communes=commune).values("action_id"))
    if secteur is not None:
        return queryset.filter(
            pk__in=through.filter(qpv__communes__secteur=secteur).values("action_id")
        )
    return queryset


def dossiers(contrat, annee: int, *, secteur=None, commune=None):
    """The dossiers of a contract's year, in a sector or commune when given."""
    queryset = of_year(Action.objects.filter(contrat=contrat), annee)
    return in_territory(queryset, secteur=secteur, commune=commune)


def lines(actions, *, annee: int | None = None, financeur=None):
    """The financing lines of these actions, for one year and one funder when given."""
    if actions.model is Action and not actions.query.where and not actions.query.is_sliced:
        # Every action (an unfiltered list): every line, without testing each line's action
        # against the whole table (0.53 s -> 0.35 s at ten times PMA's history).
        queryset = Financement.objects.all()
    else:
        queryset = Financement.objects.filter(action__in=actions)
    if annee is not None:
        queryset = queryset.filter(annee=annee)
    if financeur is not None:
        queryset = queryset.filter(financeur=financeur)
    return queryset


COUNTED_VOTE = ~Q(action__statut__in=NOT_FUNDED)


def totals(actions, *, annee: int | None = None, financeur=None, count: bool = False) -> dict:
    """Requested, proposed, voted (as counted) and paid over these actions' lines; kept in the
    cache under the query while the data does not change (core.versions.cached_query): the
    unfiltered list of actions adds up 780,000 lines at ten times PMA's history. With `count`,
    also the number of actions (`nombre`), kept with them: the list's pagination reads it
    rather than counting 180,000 actions again."""
    queryset = lines(actions, annee=annee, financeur=financeur)
    if not count:
        return versions.cached_query("totaux", queryset, lambda: sums(queryset))
    return versions.cached_query(
        "totaux_nombre",
        (queryset, actions),
        lambda: {**sums(queryset), "nombre": actions.count()},
    )


def sums(queryset) -> dict:
    """Requested, proposed, voted (as counted) and paid over these financing lines."""
    return queryset.aggregate(
        demande=Coalesce(Sum("montant_demande"), Value(ZERO)),
        propose=Coalesce(Sum("montant_propose"), Value(ZERO)),
        vote=Coalesce(Sum("montant_vote", filter=COUNTED_VOTE), Value(ZERO)),
        verse=Coalesce(Sum("montant_verse"), Value(ZERO)),
    )


def par_objectif(contrat, *, annee: int | None = None) -> tuple[dict, dict, dict]:
    """A contract's figures by objective, over its lines of one year or of every year: the
    totals, each objective's requested and voted (as counted) amounts with its number of
    actions having a line, and those of the actions attached to no objective (key None). An
    action serving two objectives counts fully under each. Kept in the cache while the data
    does not change (core.versions): one query then, three when computed."""
    return versions.cached(
        f"par_objectif:{contrat.pk}:{annee or ''}", lambda: _par_objectif(contrat, annee)
    )


def _par_objectif(contrat, annee: int | None) -> tuple[dict, dict, dict]:
    """par_objectif, computed.

    The lines are read through a join on their action (the contract), not tested against the
    contract's actions, and the actions are counted apart rather than with a distinct count
    over the lines: at ten times PMA's history (780,000 lines over ten years) the page's
    figures went from 1.27 s to 0.86 s of SQL (0.21 s for one year)."""
    year = Q() if annee is None else Q(annee=annee)
    queryset = Financement.objects.filter(year, action__contrat=contrat)
    amounts = {
        objectif: {"demande": demande or ZERO, "vote": vote or ZERO, "nb": 0}
        for objectif, demande, vote in queryset.order_by()
        .values("action__objectifs")
        .annotate(
            demande=Sum("montant_demande"),
            vote=Sum("montant_vote", filter=COUNTED_VOTE),
        )
        .values_list("action__objectifs", "demande", "vote")
    }
    counted = (
        Action.objectifs.through.objects.filter(action__contrat=contrat)
        .filter(Exists(Financement.objects.filter(year, action_id=OuterRef("action_id"))))
        .order_by()
        .values("noeudstrategie_id")
        .annotate(nb=Count("pk"))
        .values_list("noeudstrategie_id", "nb")
    )
    for objectif, nb in counted:
        amounts[objectif]["nb"] = nb
    sans_objectif = amounts.pop(None, {"demande": ZERO, "vote": ZERO})
    sans_objectif.pop("nb", None)
    return sums(queryset), amounts, sans_objectif


def par_annee(actions) -> dict[int, dict]:
    """Per year of these actions' lines: voted (as counted) and paid, and the number of actions
    voted money that year (one query)."""
    rows = (
        lines(actions)
        .values("annee")
        .annotate(
            vote=Coalesce(Sum("montant_vote", filter=COUNTED_VOTE), Value(ZERO)),
            verse=Coalesce(Sum("montant_verse"), Value(ZERO)),
            nb_financees=Count(
                "action", distinct=True, filter=COUNTED_VOTE & Q(montant_vote__gt=0)
            ),
        )
        .order_by("annee")
    )
    return {row.pop("annee"): row for row in rows}


def _line_sum(column: str, filters: Q):
    money = DecimalField(max_digits=14, decimal_places=2)
    return Coalesce(
        Subquery(
            Financement.objects.filter(filters, action=OuterRef("pk"))
            .order_by()
            .values("action")
            .annotate(total=Sum(column))
            .values("total"),
            output_field=money,
        ),
        Value(ZERO),
        output_field=money,
    )


def with_amounts(queryset, *, annee: int | None = None, financeur=None):
    """Each action's total_demande, total_vote (as counted) and total_verse, over its lines of
    the year and of the funder when given: a list filtered on a funder shows that funder's
    amounts, row by row and in its totals."""
    filters = Q()
    if annee is not None:
        filters &= Q(annee=annee)
    if financeur is not None:
        filters &= Q(financeur=financeur)
    return queryset.annotate(
        total_demande=_line_sum("montant_demande", filters),
        total_vote=_line_sum("montant_vote", filters & COUNTED_VOTE),
        total_verse=_line_sum("montant_verse", filters),
    )


def with_porteur_figures(queryset):
    """Each organisation's nb_actions (the actions it carries) and total_recu (what those actions
    count as voted, every year): one correlated subquery per relation and organisation, never a
    join that multiplies the lines by the actions before adding them up."""
    money = DecimalField(max_digits=14, decimal_places=2)
    carried = (
        Action.objects.filter(porteur=OuterRef("pk"))
        .order_by()
        .values("porteur")
        .annotate(n=Count("pk"))
        .values("n")
    )
    received = (
        Financement.objects.filter(COUNTED_VOTE, action__porteur=OuterRef("pk"))
        .order_by()
        .values("action__porteur")
        .annotate(total=Sum("montant_vote"))
        .values("total")
    )
    return queryset.annotate(
        nb_actions=Coalesce(Subquery(carried, output_field=IntegerField()), Value(0)),
        total_recu=Coalesce(
            Subquery(received, output_field=money), Value(ZERO), output_field=money
        ),
    )


def _beneficiaires_sums():
    return {
        "nb_bilans": Count("pk"),
        "nb_comptes": Count("beneficiaires"),
        "total_avec_qpv": Sum("beneficiaires", filter=Q(beneficiaires_qpv__isnull=False)),
        **{name: Sum(name) for name in BENEFICIAIRES},
    }


def beneficiaires(actions, annee: int) -> dict:
    """What the bilans of exercice `annee` of `actions` say they reached: each count summed
    (None when no bilan gave it), the number of bilans, and the QPV residents' share in % of
    the total of the bilans that gave both."""
    sums = Bilan.objects.filter(action__in=actions, exercice=annee).aggregate(
        **_beneficiaires_sums()
    )
    sums = _with_shares(sums)
    sums["par_qpv"] = beneficiaires_par_qpv(
        BeneficiairesQpv.objects.filter(bilan__action__in=actions, bilan__exercice=annee),
        "qpv__nom",
    )
    return sums


def beneficiaires_par_qpv(rows, key: str) -> list[dict]:
    """The QPV residents that bilans count by QPV, summed by `key` ("qpv__nom" or
    "bilan__exercice"), with how many bilans gave them (one query)."""
    return list(
        rows.values(key)
        .annotate(nombre=Sum("nombre"), nb_bilans=Count("bilan", distinct=True))
        .order_by(key)
    )


def beneficiaires_par_exercice(actions) -> dict[int, dict]:
    """beneficiaires() for every exercice of these actions' bilans, in one query."""
    rows = (
        Bilan.objects.filter(action__in=actions)
        .values("exercice")
        .annotate(**_beneficiaires_sums())
        .order_by("exercice")
    )
    return {row.pop("exercice"): _with_shares(row) for row in rows}


def indicateurs_actions(actions) -> list[dict]:
    """The actions' own evaluation indicators summed by label and unit: how many actions set
    each, the sum of their targets and of what they achieved (one query)."""
    return list(
        IndicateurAction.objects.filter(action__in=actions)
        .values("libelle", "unite")
        .annotate(
            nb=Count("action", distinct=True),
            cible=Sum("cible"),
            realise=Sum("realise"),
        )
        .order_by("-nb", "libelle")
    )


def _with_shares(sums: dict) -> dict:
    total, qpv = sums.pop("total_avec_qpv"), sums["beneficiaires_qpv"]
    sums["part_qpv"] = round(100 * qpv / total) if total else None
    # The breakdown by sex and age, labelled for tables: [("dont femmes", 12), ...].
    sums["repartition"] = [
        (Bilan._meta.get_field(name).verbose_name, sums[name]) for name in BENEFICIAIRES[2:]
    ]
    return sums


def dependance(organisation) -> dict | None:
    """The share (in %, one decimal) of the EPCI's and the State's money in the porteur's declared
    budget, for the budget's year: what its dossiers count as voted that year (COUNTED_VOTE) by
    funders of type EPCI and État, over `budget_annuel`. None until a budget and its year are
    known."""
    budget, annee = organisation.budget_annuel, organisation.budget_annee
    if not budget or not annee:
        return None
    T = Organisation.Type
    voted = dict(
        Financement.objects.filter(
            COUNTED_VOTE,
            action__porteur=organisation,
            annee=annee,
            financeur__type__in=[T.EPCI, T.ETAT],
        )
        .order_by()
        .values_list("financeur__type")
        .annotate(total=Sum("montant_vote"))
    )
    epci, etat = voted.get(T.EPCI, ZERO), voted.get(T.ETAT, ZERO)

    def percent(amount):
        return (amount * 100 / budget).quantize(Decimal("0.1"))

    return {
        "annee": annee,
        "budget": budget,
        "epci": epci,
        "etat": etat,
        "part_epci": percent(epci),
        "part_etat": percent(etat),
        "part": percent(epci + etat),
    }


# ---------------------------------------------------------------- figures


@dataclass
class Montants:
    demande: Decimal = ZERO
    propose: Decimal = ZERO
    vote: Decimal = ZERO
    verse: Decimal = ZERO

    def add(self, other: "Montants") -> None:
        self.demande += other.demande
        self.propose += other.propose
        self.vote += other.vote
        self.verse += other.verse

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in AMOUNTS}


@dataclass
class Groupe:
    """One row of a breakdown: an axe, a QPV, a commune or a status, with its dossiers."""

    key: object
    label: str
    montants: Montants = field(default_factory=Montants)
    nombre: int = 0  # dossiers of the year in the group
    financees: int = 0  # of which funded


@dataclass
class LigneFinanceur:
    """One funder, or one of its funding lines (dispositifs), each followed on its own: its
    envelope in the year's call (None without one) and its amounts."""

    financeur: Organisation
    montant: Decimal | None
    ligne: LigneFinancement | None = None
    demande: Decimal = ZERO
    propose: Decimal = ZERO
    vote: Decimal = ZERO
    verse: Decimal = ZERO
    lignes: int = 0  # financing lines of the year

    @property
    def key(self) -> tuple[int, int | None]:
        return (self.financeur.pk, self.ligne.pk if self.ligne else None)

    @property
    def cle(self) -> str:
        """The key as the committee's script reads it (data-financeur)."""
        return f"{self.financeur.pk}-{self.ligne.pk if self.ligne else ''}"

    @property
    def libelle(self) -> str:
        """The funder as organisations are named (with its acronym), and the line."""
        return f"{self.financeur} – {self.ligne.libelle}" if self.ligne else str(self.financeur)

    @property
    def nom(self) -> str:
        """The funder's name without its acronym (the dashboard shows that apart), and the line."""
        return f"{self.financeur.nom} – {self.ligne.libelle}" if self.ligne else self.financeur.nom

    @property
    def abrege(self) -> str:
        name = self.financeur.sigle or self.financeur.nom
        return f"{name} – {self.ligne.code or self.ligne.libelle}" if self.ligne else name

    @property
    def reste(self) -> Decimal | None:
        return None if self.montant is None else self.montant - self.vote

    @property
    def depasse(self) -> bool:
        return self.montant is not None and self.vote > self.montant

    @property
    def taux(self) -> int | None:
        """Share of the envelope voted, in whole percent."""
        if not self.montant:
            return None
        return min(int(self.vote * 100 / self.montant), 999)


class Chiffres:
    """The figures of a contract's year, in a sector or a commune when given.

    voted_override maps a financing line's pk to the voted amount a decision being entered
    would give it (the committee's live envelopes); it counts whatever the dossier's status.
    """

    def __init__(self, contrat, annee: int, *, secteur=None, commune=None, voted_override=None):
        self.contrat = contrat
        self.annee = annee
        self.secteur = secteur
        self.commune = commune
        self.voted_override = voted_override or {}

    @property
    def territorial(self) -> bool:
        return self.secteur is not None or self.commune is not None

    def dossiers(self):
        return dossiers(self.contrat, self.annee, secteur=self.secteur, commune=self.commune)

    def lignes(self):
        """The year's financing lines of these dossiers. A line of the year makes its action a
        dossier of the year (of_year), so the contract and the territory suffice: no need for
        the year's three-branch test, which reads far more than the year's lines."""
        queryset = Financement.objects.filter(annee=self.annee, action__contrat=self.contrat)
        if self.territorial:
            territory = in_territory(
                Action.objects.all(), secteur=self.secteur, commune=self.commune
            )
            queryset = queryset.filter(action__in=territory)
        return queryset

    @cached_property
    def _dossier_rows(self) -> list[tuple[int, str, int | None]]:
        """Each dossier of the year: its pk, status and call (one query)."""
        return list(self.dossiers().values_list("pk", "statut", "appel_id"))

    @cached_property
    def statuts(self) -> dict[int, str]:
        """Each dossier of the year and its status."""
        return {pk: statut for pk, statut, _ in self._dossier_rows}

    @cached_property
    def _overridden(self) -> list[tuple[dict, Decimal]]:
        """The lines whose vote the committee is entering, each with the difference between
        that vote and the one counted now (a refused or withdrawn dossier's counts zero)."""
        if not self.voted_override:
            return []
        rows = (
            self.lignes()
            .filter(pk__in=self.voted_override)
            .values("pk", "action_id", "financeur_id", "ligne_id", "action__statut", "montant_vote")
        )
        result = []
        for row in rows:
            counted = ZERO if row["action__statut"] in NOT_FUNDED else row["montant_vote"] or ZERO
            result.append((row, (self.voted_override[row["pk"]] or ZERO) - counted))
        return result

    def _sums(self, *keys: str, actions=None) -> tuple[dict[tuple, Montants], dict[tuple, int]]:
        """The year's lines (of these actions' pks when given) added up per `keys` by the
        database (voted as counted), then the committee's votes being entered applied as
        differences; and the lines per key. One query whatever the number of lines: the rows
        come back per key, not per line."""
        lignes = self.lignes()
        if actions is not None:
            lignes = lignes.filter(action_id__in=actions)
        rows = (
            lignes.order_by()
            .values(*keys)
            .annotate(
                demande=Sum("montant_demande"),
                propose=Sum("montant_propose"),
                vote=Sum("montant_vote", filter=COUNTED_VOTE),
                verse=Sum("montant_verse"),
                lignes=Count("pk"),
            )
            # Tuples rather than dicts: a year of 18,000 dossiers comes back as 18,000 rows.
            .values_list(*keys, *AMOUNTS, "lignes")
        )
        size = len(keys)
        sums, counts = {}, {}
        for row in rows:
            key = row[:size]
            demande, propose, vote, verse, lignes = row[size:]
            sums[key] = Montants(demande or ZERO, propose or ZERO, vote or ZERO, verse or ZERO)
            counts[key] = lignes
        for line, difference in self._overridden:
            if actions is None or line["action_id"] in actions:
                sums[tuple(line[name] for name in keys)].vote += difference
        return sums, counts

    def montants_de(self, actions: list[int]) -> dict[int, Montants]:
        """The year's amounts of these dossiers only (a page of a list), zeros for those
        without a line that year: one query over their lines, not the year's."""
        if "par_action" in self.__dict__:  # the whole year is already added up
            return {pk: self.par_action.get(pk) or Montants() for pk in actions}
        sums = self._sums("action_id", actions=actions)[0]
        return {pk: sums.get((pk,)) or Montants() for pk in actions}

    @cached_property
    def _par_cle(self) -> tuple[dict[tuple, Montants], dict[tuple, int]]:
        """Per (funder, funding line): amounts and number of lines."""
        return self._sums("financeur_id", "ligne_id")

    @cached_property
    def par_action(self) -> dict[int, Montants]:
        """Every dossier of the year, with zeros when it has no line that year."""
        # A line of the year makes its action a dossier of the year: the sums' keys are among
        # the dossiers, and only the dossiers without a line get a new (zero) Montants.
        sums = self._sums("action_id")[0]
        return {pk: sums.get((pk,)) or Montants() for pk in self.statuts}

    @cached_property
    def total(self) -> Montants:
        result = Montants()
        for amounts in self._par_cle[0].values():
            result.add(amounts)
        return result

    @cached_property
    def financees(self) -> set[int]:
        """The funded dossiers: voted (as counted) above zero this year."""
        return {pk for pk, amounts in self.par_action.items() if amounts.vote > 0}

    @property
    def nb_dossiers(self) -> int:
        return len(self.statuts)

    @cached_property
    def cpo(self) -> set[int]:
        """The funded dossiers that are multi-year conventions (CPO: an end year)."""
        multi_year = self.dossiers().filter(annee_fin__isnull=False).values_list("pk", flat=True)
        return set(multi_year) & self.financees

    @property
    def part_cpo(self) -> int | None:
        """The CPO's share of the funded dossiers, in %, against OBJECTIF_CPO."""
        return round(100 * len(self.cpo) / self.nb_financees) if self.nb_financees else None

    @property
    def nb_financees(self) -> int:
        return len(self.financees)

    def enveloppes(self) -> dict[tuple[int, int | None], Enveloppe]:
        """The year's envelopes by (funder, funding line or None)."""
        return {
            (e.financeur_id, e.ligne_id): e
            for e in Enveloppe.objects.filter(
                appel__contrat=self.contrat, appel__annee=self.annee
            ).select_related("financeur", "ligne")
        }

    @cached_property
    def par_financeur(self) -> list[LigneFinanceur]:
        """Per funder and funding line (a line's money counts against its line's envelope, the
        rest against the funder's): those with an envelope in the year's call first, then the
        others, by name. In a sector or a commune, the envelopes (contract-wide) are left out."""
        result: dict[tuple, LigneFinanceur] = {}
        if not self.territorial:
            for key, enveloppe in self.enveloppes().items():
                result[key] = LigneFinanceur(
                    enveloppe.financeur, enveloppe.montant, ligne=enveloppe.ligne
                )
        sums, counts = self._par_cle
        missing = set(sums) - set(result)
        if missing:
            funders = Organisation.objects.in_bulk({f for f, _ in missing})
            lignes = LigneFinancement.objects.in_bulk({g for _, g in missing if g})
            for financeur_id, ligne_id in missing:
                result[(financeur_id, ligne_id)] = LigneFinanceur(
                    funders[financeur_id], None, ligne=lignes.get(ligne_id)
                )
        for key, amounts in sums.items():
            row = result[key]
            row.lignes += counts[key]
            for name in AMOUNTS:
                setattr(row, name, getattr(row, name) + getattr(amounts, name))
        return sorted(
            result.values(),
            key=lambda r: (r.montant is None, r.financeur.nom, r.ligne is not None, r.libelle),
        )

    def _groups(self, links, labels: dict) -> list[Groupe]:
        """Adds each dossier to every group it belongs to: a dossier serving two axes or two
        QPVs counts fully in each."""
        members = defaultdict(set)
        for action_id, key in links:
            if key in labels and action_id in self.statuts:
                members[key].add(action_id)
        groups = []
        for key, actions in members.items():
            group = Groupe(key, labels[key], nombre=len(actions))
            for action_id in actions:
                group.montants.add(self.par_action[action_id])
            group.financees = len(actions & self.financees)
            groups.append(group)
        return sorted(groups, key=lambda g: g.label)

    @cached_property
    def liens_axe(self) -> tuple[list, dict]:
        """(dossier, axe) pairs, through the dossiers' objectives, and each axe's name: an axe is
        a root of the contract's strategic tree."""
        # Unordered: the nodes' default order would join the contracts, a table whose writes
        # do not raise the data's version (core.versions).
        nodes = {n.pk: n for n in NoeudStrategie.objects.filter(contrat=self.contrat).order_by()}

        def root(pk):
            node = nodes.get(pk)
            while node is not None and node.parent_id:
                node = nodes.get(node.parent_id)
            return node.pk if node is not None else None

        axe_of = {pk: root(pk) for pk in nodes}  # once per node, not per link
        links = [
            (action_id, axe_of.get(node_id))
            for action_id, node_id in Action.objectifs.through.objects.filter(
                action__in=self.dossiers()
            ).values_list("action_id", "noeudstrategie_id")
        ]
        return links, {pk: str(n) for pk, n in nodes.items() if n.parent_id is None}

    @cached_property
    def liens_qpv(self) -> tuple[list, dict]:
        rows = list(
            Action.qpvs.through.objects.filter(action__in=self.dossiers()).values_list(
                "action_id", "qpv_id", "qpv__nom"
            )
        )
        return [(a, q) for a, q, _ in rows], {q: nom for _, q, nom in rows}

    @cached_property
    def liens_commune(self) -> tuple[list, dict]:
        """(dossier, commune) pairs through the dossiers' QPVs: from liens_qpv and the QPVs'
        communes (a few dozen rows), rather than reading the year's links a second time."""
        links, _ = self.liens_qpv
        communes, labels = defaultdict(list), {}
        for qpv_id, commune_id, nom in Qpv.communes.through.objects.filter(
            qpv_id__in={qpv_id for _, qpv_id in links}
        ).values_list("qpv_id", "commune_id", "commune__nom"):
            communes[qpv_id].append(commune_id)
            labels[commune_id] = nom
        return [(a, c) for a, qpv_id in links for c in communes[qpv_id]], labels

    @cached_property
    def par_axe(self) -> list[Groupe]:
        return self._groups(*self.liens_axe)

    @cached_property
    def par_qpv(self) -> list[Groupe]:
        return self._groups(*self.liens_qpv)

    @cached_property
    def par_commune(self) -> list[Groupe]:
        return self._groups(*self.liens_commune)

    @staticmethod
    def names_of(links: tuple[list, dict]) -> dict[int, list[str]]:
        """Each dossier's group names, sorted (for a column of an export)."""
        pairs, labels = links
        result = defaultdict(set)
        for action_id, key in pairs:
            if key in labels:
                result[action_id].add(labels[key])
        return {action_id: sorted(names) for action_id, names in result.items()}

    @cached_property
    def par_ligne(self) -> dict[tuple[int, tuple], Montants]:
        """Each (dossier, funder) line of the year, its voted amount as counted."""
        return {
            (action_id, (financeur_id, ligne_id)): amounts
            for (action_id, financeur_id, ligne_id), amounts in self._sums(
                "action_id", "financeur_id", "ligne_id"
            )[0].items()
        }

    @cached_property
    def par_statut(self) -> list[Groupe]:
        """Per status, in the order of the cycle's statuses; only those with dossiers."""
        labels = dict(S.choices)
        groups = {g.key: g for g in self._groups([(a, s) for a, s in self.statuts.items()], labels)}
        return [groups[value] for value in S.values if value in groups]

    def compute_synthese(self) -> "Synthese":
        """The summary the dashboard, the call page and the reports show (see synthese())."""
        par_appel = defaultdict(int)
        for _, _, appel_id in self._dossier_rows:
            par_appel[appel_id] += 1
        return Synthese(
            total=self.total,
            nb_dossiers=self.nb_dossiers,
            nb_financees=self.nb_financees,
            nb_cpo=len(self.cpo),
            part_cpo=self.part_cpo,
            par_appel=dict(par_appel),
            par_financeur=self.par_financeur,
            par_axe=self.par_axe,
            par_qpv=self.par_qpv,
            par_commune=self.par_commune,
            par_statut=self.par_statut,
            beneficiaires=beneficiaires(self.dossiers(), self.annee),
        )


@dataclass
class Synthese:
    """What the dashboard, the call page and the reports show of a year's figures, without the
    rows of each dossier: small enough to keep in the cache (core.versions)."""

    total: Montants
    nb_dossiers: int
    nb_financees: int
    nb_cpo: int
    part_cpo: int | None
    par_appel: dict[int | None, int]  # the year's dossiers per call (None: outside any call)
    par_financeur: list[LigneFinanceur]
    par_axe: list[Groupe]
    par_qpv: list[Groupe]
    par_commune: list[Groupe]
    par_statut: list[Groupe]
    beneficiaires: dict

    def hors_appel(self, appel) -> int:
        """How many dossiers of the year are not that call's (financed that year, or of a
        period covering it, outside it)."""
        return self.nb_dossiers - self.par_appel.get(appel.pk, 0)


def synthese(chiffres: Chiffres) -> Synthese:
    """The summary of these figures, from the cache while the data has not changed since it was
    computed (then in one query), else computed from `chiffres` (whose rows stay available)."""
    if chiffres.voted_override:
        raise ValueError("Les votes en cours de saisie ne se gardent pas en cache.")
    key = "synthese:{}:{}:{}:{}".format(
        chiffres.contrat.pk,
        chiffres.annee,
        getattr(chiffres.secteur, "pk", ""),
        getattr(chiffres.commune, "pk", ""),
    )
    return versions.cached(key, chiffres.compute_synthese)
