"""Import of the dossiers list exported from Dauphin into a call for projects.

Dauphin's export layouts vary from one year and one service to the next, so the user maps the
file's columns to what we need (guessed from the headers), previews, then applies all or nothing.
Re-importing updates the dossiers found by their Dauphin number instead of duplicating them,
whatever way the number is written (see `parse_numero`); the preview lists what is new, what
changed, what is unchanged and which dossiers of the call the file no longer carries. A dossier
whose porteur had a fiche d'intention for the call is offered that fiche, tied on confirmation.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from core import imports as core_imports
from core import previews
from core.imports import CellError, Table, UncachedFormula, normalise, parse_amount, text_of
from quartiers.models import Commune, Qpv

from .geography import Territory, qpvs_outside
from .imports import MAX_ROWS
from .intentions import intentions_for_dossiers
from .models import Action, AppelAProjets, FicheIntention, Financement, Organisation
from .numeros import Numero, numero_key, parse_numero
from .porteurs import PorteursToCreate
from .validators import normalise_siret, validate_siret_or_siren

# What we need from the file: key -> (label, required, header words that point to it).
FIELDS = {
    "numero": (
        "N° de dossier Dauphin",
        True,
        ["n dossier", "numero dossier", "code dossier", "code action", "dossier", "dauphin"],
    ),
    "porteur": ("Nom du porteur", True, ["raison sociale", "porteur", "structure", "organisme"]),
    "siret": ("SIRET du porteur", False, ["siret", "siren"]),
    "titre": ("Intitulé de l'action", True, ["intitule", "titre", "libelle", "action"]),
    "annee": ("Exercice", False, ["exercice", "annee"]),
    "qpv": ("QPV", False, ["qpv", "quartier"]),
    "commune": ("Commune", False, ["commune", "insee"]),
}
# Shown under the mapping's choices.
HELP = {
    "numero": "Avec ou sans « DA », avec ou sans le suffixe -1, -2 d'une action du projet.",
    "siret": "Facultatif : sans SIRET, le porteur est reconnu par son nom exact.",
    "qpv": "Facultatif : noms ou codes des QPV, séparés par « ; » ou « , ».",
    "commune": "Facultatif : noms ou codes INSEE, séparés par « ; » ou « , ».",
}
EXTENSIONS = (".xlsx", ".csv")
# Funder types whose name alone designates one funder in a Dauphin header.
TYPE_WORDS = {"etat", "caf", "region", "departement", "epci"}


SESSION_KEY = "cvu_import_dauphin"
STORE = previews.DAUPHIN


def _recognise(title: str) -> str | None:
    header = normalise(title)
    return next(
        (key for key, (_, _, words) in FIELDS.items() for word in words if word in header), None
    )


def read_table(data: bytes) -> Table:
    """The header and data lines of an .xlsx workbook (first sheet) or a CSV file (; or ,).

    The header is looked for among the first lines, below a title or blank lines; blank and
    total lines are set aside and reported (Table.report). A formula the file carries without
    its computed value becomes an UncachedFormula, refused where it is read."""
    table = core_imports.read_table(
        data,
        recognise=_recognise,
        max_rows=MAX_ROWS,
        unreadable="Ce fichier n'est ni un classeur Excel (.xlsx) ni un fichier CSV : "
        "enregistrez l'export de Dauphin au format .xlsx, puis déposez-le.",
    )
    core_imports.mark_uncached_formulas(data, table)
    return table


def ignored(table: Table, mapping: dict) -> list[str]:
    """The file's columns the mapping does not read, shown as 'ignorée'."""
    return core_imports.ignored_columns(table.headers, mapping)


def check_name(name: str) -> None:
    if not name.lower().endswith(EXTENSIONS):
        raise ValidationError(
            "Déposez l'export de Dauphin au format .xlsx ou .csv (les fichiers .xls et .ods ne "
            "sont pas acceptés : enregistrez-les d'abord au format .xlsx)."
        )


# ---------------------------------------------------------------- mapping


def funders(appel: AppelAProjets) -> list[Organisation]:
    """The funders whose requested amounts the file may carry: those with an envelope (once,
    whatever their funding lines)."""
    envelopes = appel.enveloppes.select_related("financeur").order_by("financeur__nom")
    return list({e.financeur_id: e.financeur for e in envelopes}.values())


def guess_mapping(headers: list[str], funder_list: list[Organisation]) -> dict[str, int | None]:
    """Column index per field key and per 'financeur_<pk>', from the header words."""
    normalised = [normalise(h) for h in headers]
    mapping: dict[str, int | None] = {}
    taken: set[int] = set()
    for key, (_, _, words) in FIELDS.items():
        mapping[key] = next(
            (
                i
                for word in words
                for i, header in enumerate(normalised)
                if i not in taken and word in header
            ),
            None,
        )
        if mapping[key] is not None:
            taken.add(mapping[key])
    for funder in funder_list:
        names = [normalise(n) for n in (funder.sigle, funder.nom) if n]
        if funder.type in TYPE_WORDS:
            names.append(normalise(funder.get_type_display()))  # "Montant État", "Part CAF"
        mapping[f"financeur_{funder.pk}"] = next(
            (
                i
                for name in names
                for i, header in enumerate(normalised)
                if i not in taken and name in header
            ),
            None,
        )
        if mapping[f"financeur_{funder.pk}"] is not None:
            taken.add(mapping[f"financeur_{funder.pk}"])
    return mapping


# ---------------------------------------------------------------- the plan


@dataclass
class Changement:
    """A requested amount the file changes: shown as 'avant → après' in the preview."""

    financeur: str
    avant: Decimal | None
    apres: Decimal


@dataclass
class Ligne:
    numero: int  # the line in the file
    dauphin: str  # the Dauphin number, canonical form ('' when unreadable)
    key: tuple[str, int] | None = None
    titre: str = ""
    porteur: Organisation | None = None
    montants: dict[int, Decimal] = field(default_factory=dict)  # funder pk -> requested
    qpvs: list[Qpv] | None = None  # None: the file says nothing of them
    communes: list[Commune] = field(default_factory=list)
    existing: Action | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    montants_changes: list[Changement] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # other fields, in French
    unchanged: bool = False
    # The porteur's fiches d'intention this dossier may come from, and the one chosen.
    intentions: list[FicheIntention] = field(default_factory=list)
    intention: FicheIntention | None = None

    @property
    def operation(self) -> str:
        if self.unchanged:
            return "inchangé"
        return "mise à jour" if self.existing else "création"

    @property
    def total(self) -> Decimal:
        return sum(self.montants.values(), Decimal("0.00"))


@dataclass
class Plan:
    lignes: list[Ligne]
    funders: dict[int, Organisation]
    disparus: list[Action] = field(default_factory=list)
    to_create: PorteursToCreate | None = None  # unknown porteurs, "à créer"

    @property
    def new_porteurs(self) -> dict:
        return self.to_create.items if self.to_create else {}

    @property
    def ok(self) -> bool:
        return all(not ligne.errors for ligne in self.lignes)

    @property
    def errors(self) -> list[Ligne]:
        return [ligne for ligne in self.lignes if ligne.errors]

    @property
    def accepted(self) -> list[Ligne]:
        return [ligne for ligne in self.lignes if not ligne.errors]

    @property
    def nouveaux(self) -> list[Ligne]:
        return [ligne for ligne in self.accepted if not ligne.existing]

    @property
    def modifies(self) -> list[Ligne]:
        return [ligne for ligne in self.accepted if ligne.existing and not ligne.unchanged]

    @property
    def montants_modifies(self) -> list[Ligne]:
        return [ligne for ligne in self.modifies if ligne.montants_changes]

    @property
    def inchanges(self) -> list[Ligne]:
        return [ligne for ligne in self.accepted if ligne.unchanged]

    @property
    def with_intentions(self) -> list[Ligne]:
        """The lines offered a fiche d'intention to tie their dossier to."""
        return [ligne for ligne in self.lignes if ligne.intentions]

    @property
    def rattachees(self) -> list[Ligne]:
        return [ligne for ligne in self.accepted if ligne.intention is not None]

    @property
    def created(self) -> int:
        return len(self.nouveaux)

    @property
    def updated(self) -> int:
        return len(self.modifies)

    @property
    def unchanged(self) -> int:
        return len(self.inchanges)


class _Porteurs:
    """The organisations, found by SIRET, by SIREN, or by name when the file gives no SIRET."""

    def __init__(self, to_create: PorteursToCreate | None = None):
        self.to_create = to_create
        self.exact: dict[str, Organisation] = {}
        self.by_siren: dict[str, list[Organisation]] = defaultdict(list)
        self.by_name: dict[str, list[Organisation]] = defaultdict(list)
        for organisation in Organisation.objects.all():
            if organisation.siret:
                self.exact[organisation.siret] = organisation
                self.by_siren[organisation.siret[:9]].append(organisation)
            self.by_name[normalise(organisation.nom)].append(organisation)

    def find(self, name: str, siret: str, ligne: Ligne) -> Organisation | None:
        errors = ligne.errors
        if not siret:
            return self._by_name(name, ligne)
        try:
            validate_siret_or_siren(siret)
        except ValidationError as error:
            errors.append(f"SIRET « {siret} » : {' '.join(error.messages)}")
            return None
        digits = normalise_siret(siret)
        organisation = self.exact.get(digits)
        if organisation is None:
            siren_only = [o for o in self.by_siren.get(digits[:9], []) if len(o.siret) == 9]
            organisation = siren_only[0] if len(siren_only) == 1 else None
        if organisation is None and self.to_create is not None and name:
            return self.to_create.propose(name, digits, line=ligne.numero, errors=errors)
        if organisation is None:
            errors.append(
                f"SIRET inconnu {digits} (« {name} ») : créez d'abord cette organisation dans "
                "Organisations"
            )
        elif name and normalise(name) != normalise(organisation.nom):
            ligne.warnings.append(
                f"le SIRET {digits} est celui de « {organisation.nom} » (le fichier dit "
                f"« {name} ») : c'est « {organisation.nom} » qui sera le porteur"
            )
        return organisation

    def _by_name(self, name: str, ligne: Ligne) -> Organisation | None:
        errors = ligne.errors
        if not name:
            errors.append("porteur manquant : ni nom ni SIRET")
            return None
        found = self.by_name.get(normalise(name), [])
        if len(found) == 1:
            return found[0]
        if found:
            errors.append(
                f"plusieurs organisations s'appellent « {name} » : indiquez le SIRET du porteur"
            )
        elif self.to_create is not None:
            return self.to_create.propose(name, "", line=ligne.numero, errors=errors)
        else:
            errors.append(
                f"porteur « {name} » inconnu et sans SIRET : indiquez son SIRET, ou créez "
                "d'abord cette organisation dans Organisations"
            )
        return None


def _cell(cells: list, index: int | None, label: str, errors: list[str]):
    """The cell of a mapped column (None when unmapped); a formula without value is an error."""
    if index is None:
        return None
    value = cells[index]
    if isinstance(value, UncachedFormula):
        errors.append(f"{label} : {value.message}")
        return None
    return value


def _check_mapping(table: Table, mapping: dict, funder_list: dict) -> dict[int, int]:
    """The amount column of each funder; ValidationError for a mapping that cannot work."""
    missing = [
        label
        for key, (label, required, _) in FIELDS.items()
        if required and mapping.get(key) is None
    ]
    if missing:
        raise ValidationError("Indiquez la colonne de : " + ", ".join(missing) + ".")
    amount_columns = {
        pk: mapping.get(f"financeur_{pk}")
        for pk in funder_list
        if mapping.get(f"financeur_{pk}") is not None
    }
    if not amount_columns:
        raise ValidationError(
            "Indiquez au moins une colonne de montant demandé à un financeur de l'appel."
        )
    used = [i for i in mapping.values() if i is not None]
    duplicates = {i for i in used if used.count(i) > 1}
    if duplicates:
        raise ValidationError(
            "Une même colonne ne peut servir deux fois : "
            + ", ".join(f"« {table.headers[i]} »" for i in sorted(duplicates))
            + "."
        )
    return amount_columns


def _numeros(table: Table, index: int) -> list[tuple[Numero | None, str]]:
    """Each line's number, or None with the reason it cannot be read."""
    numeros = []
    for _, cells in table.rows:
        errors: list[str] = []
        value = _cell(cells, index, "n° de dossier Dauphin", errors)
        try:
            numero = parse_numero(value) if not errors else None
        except CellError as error:
            numero, errors = None, [f"n° de dossier Dauphin : {error}"]
        numeros.append((numero, errors[0] if errors else ""))
    return numeros


def plan_import(
    *,
    table: Table,
    mapping: dict,
    appel: AppelAProjets,
    user=None,
    create: set[str] | None = None,
    intentions: dict[str, str] | None = None,
) -> Plan:
    """Checks every line against today's data; nothing is written.

    With the `user`, unknown porteurs are proposed for creation (cvu.porteurs; `create`: the
    ones the person left ticked, None on the first preview); without, they are errors.
    `intentions`: the fiche d'intention chosen per Dauphin number (pk, '' for none), None on
    the first preview, where a porteur's only fiche is chosen for its only dossier."""
    funder_list = {f.pk: f for f in funders(appel)}
    amount_columns = _check_mapping(table, mapping, funder_list)
    numeros = _numeros(table, mapping["numero"])

    # The year's dossiers by number, whatever form each number was stored in.
    by_key: dict[tuple[str, int], list[int]] = defaultdict(list)
    for pk, stored in (
        Action.objects.filter(annee=appel.annee)
        .exclude(numero_dauphin="")
        .values_list("pk", "numero_dauphin")
    ):
        key = numero_key(stored)
        if key is not None:
            by_key[key].append(pk)
    file_keys = {numero.key for numero, _ in numeros if numero}
    wanted = [pk for key in file_keys for pk in by_key.get(key, [])]
    existing = {
        a.pk: a
        for a in Action.objects.filter(pk__in=wanted)
        .select_related("porteur", "intention")
        .prefetch_related(
            Prefetch("financements", queryset=Financement.objects.filter(annee=appel.annee)),
            "qpvs",
        )
    }
    # Projects of several actions: their code alone does not say which one.
    several = {projet for projet, rank in [*by_key, *file_keys] if rank > 1}

    # How '12.000' reads: the column's other amounts say, else those of the other funders.
    file_style = core_imports.amount_style(
        value for index in amount_columns.values() for value in table.column(index)
    )
    styles = {
        pk: core_imports.amount_style(table.column(index)) or file_style
        for pk, index in amount_columns.items()
    }
    territory = Territory(appel.contrat)
    porteurs = _Porteurs(PorteursToCreate(user, create) if user is not None else None)
    first_line: dict[tuple[str, int], tuple[int, str]] = {}
    lignes = []
    for (number, cells), (numero, numero_error) in zip(table.rows, numeros, strict=True):
        ligne = Ligne(number, str(numero) if numero else "", key=numero.key if numero else None)
        errors = ligne.errors
        raw = text_of(cells[mapping["numero"]])
        if numero_error:
            errors.append(numero_error)
        elif numero is None:
            errors.append("n° de dossier Dauphin manquant")
        elif numero.action is None and numero.projet in several:
            errors.append(
                f"le n° {raw} désigne un projet Dauphin de plusieurs actions : indiquez le "
                f"code de l'action ({numero.projet}-1, {numero.projet}-2…)"
            )
        elif numero.key in first_line:
            line, first_raw = first_line[numero.key]
            same = "" if first_raw == raw else f" (écrit « {first_raw} » ligne {line})"
            errors.append(
                f"le n° de dossier {raw} figure plusieurs fois dans le fichier{same} : la ligne "
                f"{line} est gardée, cette répétition est refusée"
            )
        else:
            first_line[numero.key] = (number, raw)

        titre = _cell(cells, mapping["titre"], "intitulé de l'action", errors)
        try:
            ligne.titre = core_imports.parse_text(titre, name=True)[:300]
        except CellError as error:
            errors.append(f"intitulé de l'action : {error}")
        if not ligne.titre and not any(e.startswith("intitulé") for e in errors):
            errors.append("intitulé de l'action manquant")
        name_cell = _cell(cells, mapping["porteur"], "nom du porteur", errors)
        siret_cell = _cell(cells, mapping.get("siret"), "SIRET du porteur", errors)
        try:
            name = core_imports.parse_text(name_cell, name=True)
        except CellError as error:
            errors.append(f"nom du porteur : {error}")
        else:
            ligne.porteur = porteurs.find(name, text_of(siret_cell), ligne)
        year = text_of(_cell(cells, mapping.get("annee"), "exercice", errors))
        if year and year != str(appel.annee):
            errors.append(
                f"exercice {year} : cet appel à projets porte sur l'exercice {appel.annee}"
            )
        _territory(ligne, cells, mapping, territory)
        for pk, index in amount_columns.items():
            name = funder_list[pk].sigle or funder_list[pk].nom
            raw_amount = _cell(cells, index, f"montant demandé à {name}", errors)
            try:
                amount = parse_amount(raw_amount, style=styles[pk])
            except CellError as error:
                errors.append(f"montant demandé à {name} : {error}")
                continue
            if amount is not None:  # None: nothing asked of this funder.
                ligne.montants[pk] = amount
        if not errors and not any(ligne.montants.values()):
            errors.append(
                "aucun montant demandé : toutes les colonnes de montant sont vides ou à 0"
            )

        found = [existing[pk] for pk in by_key.get(ligne.key, []) if pk in existing]
        if len(found) > 1:
            errors.append(
                f"plusieurs dossiers de l'exercice {appel.annee} portent le n° {ligne.dauphin} ("
                + ", ".join(f"« {a.numero_dauphin} »" for a in found)
                + ") : corrigez-les avant d'importer"
            )
        elif found:
            _compare(ligne, found[0], appel, funder_list)
        lignes.append(ligne)
    _match_intentions(lignes, appel, intentions)

    disparus = [
        action
        for action in Action.objects.filter(appel=appel)
        .exclude(numero_dauphin="")
        .select_related("porteur")
        .order_by("numero_dauphin")
        if numero_key(action.numero_dauphin) not in file_keys
    ]
    return Plan(lignes, funder_list, disparus, to_create=porteurs.to_create)


def _has_intention(action: Action) -> bool:
    try:
        return action.intention is not None
    except FicheIntention.DoesNotExist:
        return False


def _match_intentions(lignes: list[Ligne], appel: AppelAProjets, chosen: dict | None) -> None:
    """Offers each dossier without a fiche d'intention the porteur's fiches still untied for
    the call (or for no call of the same contract), all looked up in one query."""
    open_lines = [
        ligne
        for ligne in lignes
        if ligne.porteur is not None
        and ligne.dauphin
        and not (ligne.existing and _has_intention(ligne.existing))
    ]
    found = intentions_for_dossiers([ligne.porteur for ligne in open_lines], appel)
    lines_per_porteur: dict[int, int] = defaultdict(int)
    for ligne in open_lines:
        ligne.intentions = found.get(ligne.porteur.pk, [])
        if ligne.intentions:
            lines_per_porteur[ligne.porteur.pk] += 1
    taken: dict[int, Ligne] = {}
    for ligne in open_lines:
        if not ligne.intentions:
            continue
        if chosen is None:
            only = len(ligne.intentions) == 1 and lines_per_porteur[ligne.porteur.pk] == 1
            ligne.intention = ligne.intentions[0] if only else None
        else:
            value = str(chosen.get(ligne.dauphin, ""))
            ligne.intention = next((i for i in ligne.intentions if str(i.pk) == value), None)
        if ligne.intention is None:
            continue
        first = taken.setdefault(ligne.intention.pk, ligne)
        if first is not ligne:
            ligne.errors.append(
                f"la fiche d'intention « {ligne.intention.titre} » est déjà choisie pour le "
                f"dossier {first.dauphin} : choisissez-en une autre ou aucune"
            )


def _territory(ligne: Ligne, cells: list, mapping: dict, territory: Territory) -> None:
    """The row's QPVs and communes: in the territory, QPVs of the contract's geography and
    lying in the communes given."""
    errors = ligne.errors
    qpv_cell = _cell(cells, mapping.get("qpv"), "QPV", errors)
    commune_cell = _cell(cells, mapping.get("commune"), "commune", errors)
    ligne.communes = territory.communes(commune_cell, errors, label="commune")
    if text_of(qpv_cell):
        ligne.qpvs = territory.qpvs(qpv_cell, errors, label="QPV")
        errors.extend(qpvs_outside(ligne.qpvs, ligne.communes))


def _compare(ligne: Ligne, found: Action, appel: AppelAProjets, funder_list: dict) -> None:
    """What re-importing the line would change on the dossier already there."""
    ligne.existing = found
    if found.appel_id not in (None, appel.pk):
        ligne.errors.append(
            f"le dossier {ligne.dauphin} appartient déjà à un autre appel à projets"
        )
        return
    changes = ligne.changes
    if found.appel_id is None:
        changes.append("rattaché à cet appel à projets")
    if found.titre != ligne.titre:
        changes.append(f"intitulé : « {found.titre} » → « {ligne.titre} »")
    if ligne.porteur is not None and found.porteur_id != ligne.porteur.pk:
        changes.append(f"porteur : {found.porteur} → {ligne.porteur}")
    if ligne.qpvs is not None:
        before = sorted(found.qpvs.all(), key=lambda q: q.nom)
        if {q.pk for q in before} != {q.pk for q in ligne.qpvs}:
            changes.append(
                "QPV : "
                + (", ".join(q.nom for q in before) or "aucun")
                + " → "
                + ", ".join(q.nom for q in ligne.qpvs)
            )
    recorded = {f.financeur_id: f.montant_demande for f in found.financements.all()}
    for pk, amount in ligne.montants.items():
        if recorded.get(pk) != amount:
            funder = funder_list[pk]
            ligne.montants_changes.append(
                Changement(funder.sigle or funder.nom, recorded.get(pk), amount)
            )
    ligne.unchanged = not changes and not ligne.montants_changes


@transaction.atomic
def apply_import(*, plan: Plan, appel: AppelAProjets, user=None) -> Plan:
    """Creates or updates the dossiers and their requested amounts, all or nothing.

    New dossiers and their lines go in by batches with their history rows
    (bulk_create_with_history); a dossier the file leaves as it is gets no save (so no history
    line); the dossiers the file no longer carries (`plan.disparus`) are left untouched."""
    if not plan.ok:
        raise ValidationError("Le fichier comporte des erreurs : rien n'a été enregistré.")
    if plan.to_create:
        plan.to_create.save()  # before the dossiers that name them
    new = [ligne for ligne in plan.lignes if ligne.existing is None]
    actions = [
        Action(
            contrat=appel.contrat,
            appel=appel,
            annee=appel.annee,
            titre=ligne.titre,
            porteur=ligne.porteur,
            numero_dauphin=ligne.dauphin,
            statut=Action.Statut.DEPOSE,
        )
        for ligne in new
    ]
    bulk_create_with_history(actions, Action, default_user=user)
    links = Action.qpvs.through
    links.objects.bulk_create(
        links(action_id=action.pk, qpv_id=qpv.pk)
        for ligne, action in zip(new, actions, strict=True)
        for qpv in ligne.qpvs or []
    )
    lines = [
        Financement(
            action=action, financeur_id=funder_pk, annee=appel.annee, montant_demande=amount
        )
        for ligne, action in zip(new, actions, strict=True)
        for funder_pk, amount in ligne.montants.items()
    ]
    for ligne in plan.lignes:
        action = ligne.existing
        if action is None or ligne.unchanged:
            continue
        if (action.appel_id, action.titre, action.porteur_id) != (
            appel.pk,
            ligne.titre,
            ligne.porteur.pk,
        ):
            action.appel = appel
            action.titre = ligne.titre
            action.porteur = ligne.porteur
            action._history_user = user
            action.save(update_fields=["appel", "titre", "porteur", "updated_at"])
        if ligne.qpvs is not None and {q.pk for q in action.qpvs.all()} != {
            q.pk for q in ligne.qpvs
        }:
            action.qpvs.set(ligne.qpvs)
        recorded = {f.financeur_id: f for f in action.financements.filter(annee=appel.annee)}
        for funder_pk, amount in ligne.montants.items():
            line = recorded.get(funder_pk)
            if line is None:
                lines.append(
                    Financement(
                        action=action,
                        financeur_id=funder_pk,
                        annee=appel.annee,
                        montant_demande=amount,
                    )
                )
            elif line.montant_demande != amount:
                line.montant_demande = amount
                line._history_user = user
                line.save()
    bulk_create_with_history(lines, Financement, default_user=user)
    dossiers = {id(ligne): action for ligne, action in zip(new, actions, strict=True)}
    tied = []
    now = timezone.now()
    for ligne in plan.lignes:
        if ligne.intention is not None:
            ligne.intention.action = dossiers.get(id(ligne)) or ligne.existing
            ligne.intention.updated_at = now
            tied.append(ligne.intention)
    if tied:
        bulk_update_with_history(tied, FicheIntention, ["action", "updated_at"], default_user=user)
    return plan
