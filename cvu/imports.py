"""Spreadsheet import of actions and their financing lines: read, check, preview, apply.

One sheet, one line per action and funder. The columns and rules below are also written in the
"Aide" sheet of the downloadable template, so the file documents itself.
"""

import io
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from simple_history.utils import bulk_create_with_history

from core import imports as core_imports
from core import mappings, previews, spreadsheets
from core.imports import CellError, parse_amount
from core.templatetags.formats import euros
from quartiers.models import YEAR_MAX, YEAR_MIN, Commune, Qpv

from . import payments, rights
from .geography import Territory, qpvs_outside
from .models import Action, ContratDeVille, Financement, Organisation
from .numeros import numero_key, parse_numero
from .porteurs import NewPorteur, PorteursToCreate
from .validators import normalise_siret, validate_siret_or_siren

MAX_ROWS = 5000
SHEET_NAME = "Actions"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Outcomes of a row, for its action and its financing line.
CREATE, UPDATE, UNCHANGED, CONTINUED = "creation", "modification", "inchange", "suite"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool
    help: str
    example: object = None


COLUMNS = [
    Column(
        "contrat",
        "Contrat",
        True,
        "Nom du contrat de ville, ou ses années « début-fin » (par exemple 2024-2030).",
        "2024-2030",
    ),
    Column(
        "exercice",
        "Exercice",
        True,
        "Année de l'action, comprise dans la période du contrat (par exemple 2026).",
        2026,
    ),
    Column(
        "fin",
        "Fin",
        False,
        "Action pluriannuelle (CPO) seulement : sa dernière année. Vide pour une action annuelle.",
    ),
    Column("titre", "Intitulé", True, "Intitulé de l'action.", "Atelier d'écriture au collège"),
    Column(
        "porteur",
        "Porteur",
        True,
        "Nom de l'organisation porteuse, tel qu'enregistré dans l'application (majuscules et "
        "accents indifférents). Un porteur inconnu est proposé à la création dans l'aperçu.",
        "Association Exemple",
    ),
    Column(
        "siret",
        "SIRET porteur",
        False,
        "SIRET (14 chiffres) ou SIREN (9 chiffres) du porteur. S'il est indiqué, il doit être "
        "valide et sert en priorité à retrouver le porteur.",
    ),
    Column("dauphin", "N° Dauphin", False, "Numéro du dossier sur Dauphin.", "2026-00123"),
    Column(
        "qpv",
        "QPV",
        False,
        "Noms ou codes des QPV ciblés, séparés par « ; ». Géographie 2024 pour un contrat "
        "commencé en 2024 ou après, 2015 sinon. Obligatoire pour un chef de projet : tous les "
        "QPV doivent être dans son secteur.",
        "Chiffogne",
    ),
    Column(
        "communes",
        "Commune(s)",
        False,
        "Noms ou codes INSEE séparés par « ; ». Sert seulement à vérifier que chaque QPV est "
        "situé dans l'une d'elles.",
        "Montbéliard",
    ),
    Column(
        "statut",
        "Statut",
        False,
        "Un des statuts : "
        + ", ".join(str(label) for label in Action.Statut.labels)
        + ". Déposé par défaut.",
        "Déposé",
    ),
    Column(
        "cout_total",
        "Coût total",
        False,
        "Coût total de l'action en euros, par exemple 12 000,50 ou 12000.5.",
        12000,
    ),
    Column(
        "financeur",
        "Financeur",
        False,
        "Nom ou sigle de l'organisation qui finance. Chaque ligne ajoute au plus une ligne de "
        "financement, pour l'année de l'exercice.",
        "Préfecture du Doubs – BOP 147",
    ),
    Column(
        "montant_demande",
        "Montant demandé",
        False,
        "Obligatoire pour une nouvelle ligne de financement.",
        6000,
    ),
    Column("montant_vote", "Montant voté", False, "Vide tant que le financeur n'a pas voté."),
    Column(
        "montant_verse",
        "Montant versé",
        False,
        "Total déjà versé, 0 par défaut ; il ne peut pas dépasser le montant voté. "
        "Enregistré comme un versement « reprise de l'existant » (mandat « import ») de ce "
        "qui dépasse les versements déjà enregistrés ; réservé au chef de service.",
    ),
]

RULES = [
    "Deux présentations sont acceptées : une ligne par action avec une colonne de montant par "
    "financeur (« CAF », « Montant État », « Région voté »…), ou une ligne par action et par "
    "financeur avec les colonnes Financeur et Montant demandé.",
    "Les en-têtes peuvent porter d'autres noms que ceux du modèle : après le dépôt, vous "
    "vérifiez ce que contient chaque colonne. Sans colonne Contrat ou Exercice, choisissez-les "
    "une fois pour tout le fichier.",
    "Avec une ligne par financeur : pour un deuxième financeur, ajoutez une ligne avec "
    "le même N° Dauphin et le même Exercice (ou, sans N° Dauphin, le même Intitulé, Porteur et "
    "Exercice).",
    "Les colonnes de l'action (Contrat à Coût total) sont lues sur sa première ligne ; sur les "
    "lignes suivantes elles peuvent rester vides et sont ignorées. Un même N° Dauphin sur deux "
    "lignes du même exercice avec des intitulés différents est une erreur.",
    "Réimporter un fichier met à jour au lieu de dupliquer : une action est retrouvée par son "
    "N° Dauphin et son Exercice, sinon par son Intitulé, son Porteur et son Exercice ; une ligne "
    "de financement par son action, son financeur et l'exercice.",
    "Pour une action déjà enregistrée, une cellule facultative vide garde la valeur enregistrée ; "
    "les lignes de financement absentes du fichier sont conservées.",
    "Montants en euros, écrits « 1 200,50 € », « 1200.5 » ou en nombres Excel ; jamais négatifs.",
    "Rien n'est enregistré avant votre confirmation, puis tout ou rien : une seule erreur "
    "bloque tout l'import.",
    "Un porteur que l'application ne connaît pas est listé dans l'aperçu « à créer » : coché, "
    "il est créé avec l'import (SIRET vérifié).",
    "Chef de projet : seules les actions dont tous les QPV sont dans votre secteur sont "
    "acceptées, et vous devenez le référent des actions créées.",
]


def normalise(text) -> str:
    """Case-, accent- and spacing-insensitive form of a name: 'Étupes ' -> 'etupes'."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", "-")
    return " ".join(text.casefold().split())


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # A Dauphin number or a year typed as a number.
    return str(value).strip()


# ---------------------------------------------------------------- the file


def user_can_import(user) -> bool:
    """Chefs de projet (within their sector), the chef de service and administrators."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.sees_everything_as_manager or user.is_chef_projet)
    )


def max_size() -> int:
    return settings.IMPORT_MAX_SIZE


def check_upload(*, name: str, size: int) -> None:
    """Refuses anything but a .xlsx or .csv file under the size limit."""
    if not name.lower().endswith((".xlsx", ".csv")):
        raise ValidationError(
            "Déposez un classeur Excel au format .xlsx ou un fichier .csv (les fichiers .xls ou "
            ".ods ne sont pas acceptés : enregistrez-les d'abord au format .xlsx)."
        )
    limit = max_size()
    if size > limit:
        raise ValidationError(
            f"Le fichier pèse {size / 1_000_000:.1f} Mo : la limite est de "
            f"{limit / 1_000_000:.0f} Mo."
        )


AMOUNT_KEYS = ("cout_total", "montant_demande", "montant_vote", "montant_verse")
# A wide workbook carries one amount column per funder: the column reads as "<kind>:<funder pk>".
FUNDER_KINDS = {
    "montant_demande": "Montant demandé",
    "montant_vote": "Montant voté",
    "montant_verse": "Montant versé",
}
KIND_WORDS = {"montant_vote": ("vote", "accorde"), "montant_verse": ("verse", "paye")}
# Words of a wide header that say "an amount" and nothing about whom it is asked of.
AMOUNT_WORDS = {"montant", "demande", "demandee", "part", "subvention", "financement", "eur", "en"}
FUNDER_TYPE_WORDS = {"etat", "caf", "region", "departement", "epci"}
# The organisations offered as funders of a wide workbook's columns, besides those already funding.
MAPPING_FUNDER_TYPES = FUNDER_TYPE_WORDS | {"commune"}


@dataclass
class ColumnMapping:
    """What each column of the file holds, and what the person set once for the whole file."""

    columns: dict[int, str]  # column index -> a COLUMNS key or "<kind>:<funder pk>"
    contrat: ContratDeVille | None = None  # for every line, instead of a "Contrat" column
    exercice: int | None = None  # for every line, instead of an "Exercice" column

    def funder_columns(self) -> dict[int, tuple[str, int]]:
        """Column index -> (amount kind, funder pk) for the wide format."""
        found = {}
        for index, target in self.columns.items():
            kind, _, pk = target.partition(":")
            if pk:
                found[index] = (kind, int(pk))
        return found

    def missing(self) -> list[str]:
        """The required columns neither mapped nor set for the whole file."""
        present = set(self.columns.values())
        if self.contrat is not None:
            present.add("contrat")
        if self.exercice is not None:
            present.add("exercice")
        return [c.header for c in COLUMNS if c.required and c.key not in present]


@dataclass
class ActionFile:
    """An uploaded workbook once its header line is found, and the columns guessed from it."""

    table: core_imports.Table
    mapping: ColumnMapping
    funders: list[Organisation]  # those a column may name (mapping_funders), read once

    @property
    def report(self) -> list[str]:
        notes = list(self.table.report)
        if len(self.table.sheet_names) > 1:
            notes.insert(
                0,
                f"Feuille lue : « {self.table.sheet} » (le classeur en compte "
                f"{len(self.table.sheet_names)}).",
            )
        ignored = self.ignored
        if ignored:
            notes.append(
                "Colonne(s) ignorée(s) : " + ", ".join(f"« {name} »" for name in ignored) + "."
            )
        return notes

    @property
    def ignored(self) -> list[str]:
        return core_imports.ignored_columns(
            self.table.headers, {target: i for i, target in self.mapping.columns.items()}
        )

    @property
    def rows(self) -> list[tuple[int, dict]]:
        return [(line, values) for line, values, _ in mapped_rows(self.table, self.mapping)]

    def styles(self) -> dict[str, str | None]:
        """How each kind of amount writes "1.200", read from the cells of its columns (all the
        funders' columns of one kind in a wide workbook)."""
        cells: dict[str, list] = defaultdict(list)
        for index, target in self.mapping.columns.items():
            kind = target.partition(":")[0]
            if kind in AMOUNT_KEYS:
                cells[kind].extend(self.table.column(index))
        return {kind: core_imports.amount_style(values) for kind, values in cells.items()}


def read_file(data: bytes, *, sheet: str | None = None, csv: bool | None = None) -> ActionFile:
    """The data lines of a sheet of the workbook, its header found among the first lines, and a
    guess of what each column holds (the person checks it on the mapping step).

    The sheet is the one asked for; else the template's "Actions" sheet, else the first sheet
    with data lines. A CSV file (`;` or `,`, UTF-8 or Windows-1252) is read when `csv`, or,
    when None, when the content is not a workbook (the upload accepted a .csv name only)."""
    known = _known_headers()
    if csv is None:
        csv = not spreadsheets.is_xlsx(data)

    def read(name):
        return core_imports.read_table(
            data,
            recognise=lambda title: known.get(_header_form(title)),
            max_rows=MAX_ROWS,
            csv=csv,
            sheet_name=name,
            unreadable="Ce fichier n'est ni un classeur Excel (.xlsx) ni un fichier CSV lisible.",
        )

    try:
        table = read(sheet or SHEET_NAME)
    except core_imports.NoTable as error:
        # Another sheet is tried only for a sound workbook whose sheet holds no table: never
        # after the guard refused it (a bomb is not opened again).
        if sheet or not spreadsheets.is_xlsx(data):
            raise
        others = [name for name in spreadsheets.sheet_names(data)[1:] if name != SHEET_NAME]
        for name in others:
            try:
                table = read(name)
                break
            except core_imports.NoTable:
                continue
        else:
            raise error from None
    if table.sheet_names:
        core_imports.mark_uncached_formulas(data, table, sheet_name=table.sheet)
    funders = mapping_funders()
    return ActionFile(table, ColumnMapping(guess_columns(table.headers, funders)), funders)


MAPPING_KIND = "actions"


def remembered_mapping(user, file: "ActionFile") -> ColumnMapping | None:
    """How this user read a file with these very headers last time, if it still applies."""
    found = mappings.recall(user, MAPPING_KIND, file.table.headers)
    if found is None:
        return None
    columns, values = found
    funders = {f.pk for f in file.funders}
    keys = {c.key for c in COLUMNS}
    valid = {}
    for target, index in columns.items():
        kind, _, pk = target.partition(":")
        if (not pk and target in keys) or (
            kind in FUNDER_KINDS and pk.isdigit() and int(pk) in funders
        ):
            valid[index] = target
    contrat = ContratDeVille.objects.filter(pk=values.get("contrat")).first()
    exercice = values.get("exercice")
    return ColumnMapping(
        valid, contrat=contrat, exercice=exercice if isinstance(exercice, int) else None
    )


def remember_mapping(user, table: core_imports.Table, mapping: ColumnMapping) -> None:
    mappings.remember(
        user,
        MAPPING_KIND,
        table.headers,
        {target: index for index, target in mapping.columns.items()},
        {
            "contrat": mapping.contrat.pk if mapping.contrat else None,
            "exercice": mapping.exercice,
        },
    )


def read_rows(data: bytes) -> list[tuple[int, dict]]:
    """The data lines of a workbook laid out as the template, as (line, {column key: value})."""
    file = read_file(data)
    missing = file.mapping.missing()
    if missing:
        raise ValidationError(
            f"Colonne(s) obligatoire(s) absente(s) de la ligne d'en-têtes "
            f"(ligne {file.table.header_line}) : "
            + ", ".join(f"« {name} »" for name in missing)
            + ". Partez du modèle à télécharger."
        )
    return file.rows


def _header_form(title) -> str:
    return normalise(_text(title)).rstrip(" *")


def _known_headers() -> dict[str, str]:
    return {normalise(column.header): column.key for column in COLUMNS} | HEADER_ALIASES


HEADER_ALIASES = {
    "commune": "communes",
    "communes": "communes",
    "numero dauphin": "dauphin",
    "n dauphin": "dauphin",
    "dauphin": "dauphin",
    "code dossier": "dauphin",
    "siret": "siret",
    "intitule de l'action": "titre",
    "action": "titre",
    "structure": "porteur",
    "raison sociale": "porteur",
    "porteur de projet": "porteur",
    "annee": "exercice",
    "cout": "cout_total",
    "budget total": "cout_total",
}


def mapping_funders() -> list[Organisation]:
    """The organisations a wide workbook's amount column may name: those that already fund an
    action or a call, and the public funders and communes."""
    from .models import Enveloppe

    return list(
        Organisation.objects.filter(
            Q(financements_accordes__isnull=False)
            | Q(pk__in=Enveloppe.objects.values("financeur"))
            | Q(type__in=MAPPING_FUNDER_TYPES)
        )
        .distinct()
        .order_by("nom")
    )


def guess_columns(headers: list[str], funders: list[Organisation]) -> dict[int, str]:
    """Column index -> what it holds: the template's headers and their synonyms first, then
    headers naming a funder ("Montant CAF", "État voté", "Part Région")."""
    known = _known_headers()
    columns: dict[int, str] = {}
    for index, title in enumerate(headers):
        key = known.get(_header_form(title))
        if key and key not in columns.values():
            columns[index] = key
    names = []
    for funder in funders:
        words = [funder.sigle, funder.nom, str(funder)]
        if funder.type in FUNDER_TYPE_WORDS:
            words.append(funder.get_type_display())
        names.append((funder, {_header_words(w) for w in words if w}))
    by_type = Counter(f.type for f in funders if f.type in FUNDER_TYPE_WORDS)
    for index, title in enumerate(headers):
        if index in columns or not title:
            continue
        words = _header_words(title).split()
        kind = next(
            (k for k, hints in KIND_WORDS.items() if any(w in hints for w in words)),
            "montant_demande",
        )
        rest = " ".join(w for w in words if w not in AMOUNT_WORDS and w not in _all_hints())
        if not rest:
            continue
        matches = [
            funder
            for funder, funder_names in names
            if rest in funder_names
            and (rest != _header_words(funder.get_type_display()) or by_type[funder.type] == 1)
        ]
        if len(matches) == 1:
            target = f"{kind}:{matches[0].pk}"
            if target not in columns.values():
                columns[index] = target
    return columns


def _header_words(text) -> str:
    """'Préfecture du Doubs – BOP 147 (€)' -> 'prefecture du doubs bop 147': punctuation out."""
    return " ".join(re.sub(r"[^\w' ]", " ", normalise(text)).split())


def _all_hints() -> set[str]:
    return {word for hints in KIND_WORDS.values() for word in hints}


def mapped_rows(table: core_imports.Table, mapping: ColumnMapping):
    """Each data line as (line, action values, financing values): in the long format one
    financing per line (from the Financeur and Montant columns), in the wide format one per
    funder column group with an amount."""
    funder_columns = mapping.funder_columns()
    for line, cells in table.rows:
        values = {
            target: cells[index]
            for index, target in mapping.columns.items()
            if ":" not in target and index < len(cells)
        }
        if mapping.contrat is not None and "contrat" not in values:
            values["contrat"] = mapping.contrat
        if mapping.exercice is not None and "exercice" not in values:
            values["exercice"] = mapping.exercice
        if not funder_columns:
            yield line, values, [values]
            continue
        by_funder: dict[int, dict] = {}
        for index, (kind, funder_pk) in funder_columns.items():
            cell = cells[index] if index < len(cells) else None
            if core_imports.text_of(cell) == "":
                continue
            by_funder.setdefault(funder_pk, {"financeur": funder_pk})[kind] = cell
        financings = list(by_funder.values())
        if _text(values.get("financeur")) or any(_text(values.get(key)) for key in AMOUNT_FIELDS):
            financings.insert(0, values)
        yield line, values, financings


def template_workbook() -> bytes:
    """The .xlsx template: the header, one example line and an "Aide" sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_NAME
    sheet.append([column.header for column in COLUMNS])
    sheet.append([column.example for column in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cell, column in zip(sheet[1], COLUMNS, strict=True):
        sheet.column_dimensions[cell.column_letter].width = max(len(column.header), 14) + 4
    sheet.freeze_panes = "A2"

    aide = workbook.create_sheet("Aide")
    aide.append(["Colonne", "Obligatoire", "Contenu"])
    for column in COLUMNS:
        aide.append([column.header, "oui" if column.required else "non", column.help])
    aide.append([])
    aide.append(["Règles"])
    for rule in RULES:
        aide.append(["", "", rule])
    for cell in aide[1]:
        cell.font = Font(bold=True)
    aide.cell(row=len(COLUMNS) + 3, column=1).font = Font(bold=True)
    aide.column_dimensions["A"].width = 20
    aide.column_dimensions["B"].width = 12
    aide.column_dimensions["C"].width = 100
    for row in aide.iter_rows(min_col=3, max_col=3):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- keeping a file between requests


# The kept file is a private temporary file of core.previews, named by the user and a random
# token; the view keeps the reference in the session and checks the posted token against it.
SESSION_KEY = "cvu_import_actions"


def store_upload(data: bytes, *, user) -> dict:
    """Keeps the file until confirmation; returns the reference the session keeps."""
    return previews.ACTIONS.store(owner=user.pk, content=data, filename="import.xlsx")


def load_upload(ref: dict | None, *, user) -> bytes:
    stored = previews.ACTIONS.load(ref, owner=user.pk)
    if stored is None:
        raise FileNotFoundError("aperçu expiré ou inconnu")
    return stored[0]


def discard_upload(ref: dict | None, *, user) -> None:
    previews.ACTIONS.discard(ref)


# ---------------------------------------------------------------- the plan


@dataclass
class RowResult:
    """What one line of the file will do, and what is wrong with it."""

    numero: int
    titre: str
    action: str = ""
    financement: str = ""
    financeur: str = ""
    changes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    montants: dict[str, Decimal] = field(default_factory=dict)  # label -> amount read

    LABELS = {
        CREATE: "création",
        UPDATE: "mise à jour",
        UNCHANGED: "inchangée",
        CONTINUED: "suite de l'action",
    }
    FINANCEMENT_LABELS = {CREATE: "création", UPDATE: "mise à jour", UNCHANGED: "inchangé"}

    @property
    def action_label(self) -> str:
        return self.LABELS.get(self.action, "")

    @property
    def financement_label(self) -> str:
        return self.FINANCEMENT_LABELS.get(self.financement, "")


@dataclass
class _FinancementPlan:
    financement: Financement
    status: str
    line: int
    reprise: Decimal = Decimal("0.00")  # paid beyond the recorded payments: one payment


@dataclass
class _ActionPlan:
    line: int
    titre_norm: str
    action: Action | None = None
    qpvs: list | None = None  # None: keep the recorded QPVs.
    status: str = ""
    financements: dict = field(default_factory=dict)  # financeur pk -> _FinancementPlan

    @property
    def broken(self) -> bool:
        return self.action is None


@dataclass
class ImportPlan:
    """The preview of an import: one result per line, and what to save if there is no error."""

    rows: list[RowResult] = field(default_factory=list)
    actions: list[_ActionPlan] = field(default_factory=list)
    ambiguous: bool = False  # some amount reads '1.200': the person says how the file writes
    to_create: PorteursToCreate | None = None  # unknown porteurs, "à créer"

    @property
    def errors(self) -> list[str]:
        return [f"ligne {row.numero} : {error}" for row in self.rows for error in row.errors]

    @property
    def new_porteurs(self) -> dict[str, NewPorteur]:
        return self.to_create.items if self.to_create else {}

    @property
    def porteurs_to_create(self) -> list[NewPorteur]:
        return self.to_create.ticked if self.to_create else []

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not any(row.errors for row in self.rows)

    def _counts(self):
        actions = Counter(group.status for group in self.actions if not group.broken)
        financements = Counter(
            line.status for group in self.actions for line in group.financements.values()
        )
        return actions, financements

    @property
    def summary(self) -> str:
        actions, financements = self._counts()
        text = (
            f"Actions : {actions[CREATE]} à créer, {actions[UPDATE]} à mettre à jour, "
            f"{actions[UNCHANGED]} inchangée(s). Lignes de financement : "
            f"{financements[CREATE]} à créer, {financements[UPDATE]} à mettre à jour, "
            f"{financements[UNCHANGED]} inchangée(s)."
        )
        if self.porteurs_to_create:
            text += f" Porteurs à créer : {len(self.porteurs_to_create)}."
        return text

    @property
    def result_message(self) -> str:
        actions, financements = self._counts()
        text = (
            f"Import terminé : {actions[CREATE]} action(s) créée(s), {actions[UPDATE]} mise(s) "
            f"à jour, {actions[UNCHANGED]} inchangée(s) ; {financements[CREATE]} ligne(s) de "
            f"financement créée(s), {financements[UPDATE]} mise(s) à jour"
        )
        if self.porteurs_to_create:
            text += f" ; {len(self.porteurs_to_create)} porteur(s) créé(s)"
        return text + "."

    def preview_lines(self) -> list[str]:
        lines = []
        for row in self.rows:
            parts = [f"ligne {row.numero} : « {row.titre} »"]
            if row.action_label:
                changes = f" ({', '.join(row.changes)})" if row.changes else ""
                parts.append(f"action : {row.action_label}{changes}")
            if row.financement_label:
                parts.append(f"financement {row.financeur} : {row.financement_label}")
            lines.append(" ; ".join(parts))
            lines.extend(f"  erreur : {error}" for error in row.errors)
        lines.append(self.summary)
        return lines


def _error_messages(error: ValidationError, model) -> list[str]:
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    messages = []
    for name, texts in error.message_dict.items():
        label = "" if name == NON_FIELD_ERRORS else str(model._meta.get_field(name).verbose_name)
        messages.extend(f"{label} : {text}" if label else text for text in texts)
    return messages


def _year(value, label: str, errors: list) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        year = value
    else:
        text = _text(value)
        if not text:
            return None
        if not re.fullmatch(r"\d{4}", text):
            errors.append(f"{label} : « {text} » n'est pas une année (exemple : 2026)")
            return None
        year = int(text)
    if not YEAR_MIN <= year <= YEAR_MAX:
        errors.append(f"{label} : l'année doit être comprise entre {YEAR_MIN} et {YEAR_MAX}")
        return None
    return year


def _amount(value, label: str, errors: list, *, style: str | None = None) -> Decimal | None:
    try:
        return parse_amount(value, style=style)
    except CellError as error:
        errors.append(f"{label} : {error}")
        return None


def _snapshot(instance, names) -> dict:
    return {name: getattr(instance, name) for name in names}


def _changed_labels(instance, before: dict) -> list[str]:
    return [
        str(instance._meta.get_field(name).verbose_name)
        for name, old in before.items()
        if getattr(instance, name) != old
    ]


ACTION_FIELDS = [
    "contrat_id",
    "titre",
    "porteur_id",
    "annee",
    "annee_fin",
    "numero_dauphin",
    "statut",
    "cout_total",
]
# The line's fields an import writes; the paid amount comes from a payment (cvu.payments).
FINANCEMENT_FIELDS = ["montant_demande", "montant_vote"]
AMOUNT_FIELDS = [*FINANCEMENT_FIELDS, "montant_verse"]


class _Lookups:
    """Reference data loaded once per import, matched by normalised name."""

    def __init__(self, user, *, plan, create: set[str] | None = None):
        self.plan = plan
        plan.to_create = PorteursToCreate(user, create)
        self.organisations_by_siret = {}
        self.organisations_by_name = defaultdict(set)
        self.funders = defaultdict(set)
        self.funders_by_pk = {}
        for organisation in Organisation.objects.all():
            if organisation.siret:
                self.organisations_by_siret[organisation.siret] = organisation
            self.organisations_by_name[normalise(organisation.nom)].add(organisation)
            for name in (organisation.nom, organisation.sigle, str(organisation)):
                if name:
                    self.funders[normalise(name)].add(organisation)
            self.funders_by_pk[organisation.pk] = organisation
        self.contrat_index = defaultdict(set)
        for contrat in ContratDeVille.objects.all():
            for name in (contrat.nom, str(contrat), f"{contrat.annee_debut}-{contrat.annee_fin}"):
                self.contrat_index[normalise(name).replace(" - ", "-")].add(contrat)
        self._territories: dict[int | None, Territory] = {}
        self.statuts = {}
        for value, label in Action.Statut.choices:
            self.statuts[normalise(value)] = value
            self.statuts[normalise(label)] = value
        self.user = user
        self.sector_qpv_ids = None
        if not user.sees_everything_as_manager:
            self.sector_qpv_ids = set(Qpv.objects.editable_by(user).values_list("pk", flat=True))

    def contrat(self, value, errors) -> ContratDeVille | None:
        if isinstance(value, ContratDeVille):  # chosen once for the whole file
            return value
        text = _text(value)
        if not text:
            errors.append("contrat manquant")
            return None
        found = self.contrat_index.get(normalise(text).replace(" - ", "-"), set())
        if len(found) == 1:
            return next(iter(found))
        if found:
            errors.append(f"plusieurs contrats correspondent à « {text} » : indiquez ses années")
        else:
            errors.append(f"contrat inconnu « {text} »")
        return None

    def known_porteur(self, values) -> Organisation | None:
        """The organisation a line names, if the application knows it; no error, no creation."""
        siret, name = _text(values.get("siret")), _text(values.get("porteur"))
        digits = normalise_siret(siret) if siret else ""
        if digits in self.organisations_by_siret:
            return self.organisations_by_siret[digits]
        found = self.organisations_by_name.get(normalise(name), set())
        return next(iter(found)) if len(found) == 1 else None

    def porteur(self, values, errors, *, line: int, warnings=None) -> Organisation | None:
        warnings = warnings if warnings is not None else []
        name, siret = _text(values.get("porteur")), _text(values.get("siret"))
        if siret:
            try:
                validate_siret_or_siren(siret)
            except ValidationError as error:
                errors.append(f"SIRET porteur : {' '.join(error.messages)}")
                return None
            organisation = self.organisations_by_siret.get(normalise_siret(siret))
            if organisation:
                if name and normalise(name) not in {
                    normalise(organisation.nom),
                    normalise(organisation.sigle or ""),
                    normalise(str(organisation)),
                }:
                    warnings.append(
                        f"SIRET {organisation.siret} : porteur enregistré sous le nom "
                        f"« {organisation} », et non « {name} »"
                    )
                return organisation
        if not name:
            errors.append(f"porteur inconnu (SIRET « {siret} »)" if siret else "porteur manquant")
            return None
        found = self.organisations_by_name.get(normalise(name), set())
        if len(found) == 1:
            return next(iter(found))
        if found:
            errors.append(f"plusieurs organisations s'appellent « {name} » : indiquez le SIRET")
            return None
        return self._new_porteur(name, siret, errors, line=line)

    def _new_porteur(self, name: str, siret: str, errors, *, line: int) -> Organisation | None:
        digits = normalise_siret(siret) if siret else ""
        return self.plan.to_create.propose(name, digits, line=line, errors=errors)

    def financeur(self, name, errors) -> Organisation | None:
        if isinstance(name, int):  # a wide workbook's column names its funder
            return self.funders_by_pk.get(name)
        found = self.funders.get(normalise(name), set())
        if len(found) == 1:
            return next(iter(found))
        if found:
            errors.append(f"plusieurs organisations répondent au nom de financeur « {name} »")
        else:
            errors.append(f"financeur inconnu « {name} »")
        return None

    def territory(self, contrat: ContratDeVille | None) -> Territory:
        """The territory seen from the contract's QPV geography (cvu.geography), read once."""
        key = contrat.pk if contrat else None
        if key not in self._territories:
            self._territories[key] = Territory(contrat)
        return self._territories[key]

    def qpvs(self, value, contrat: ContratDeVille, errors) -> list[Qpv]:
        return self.territory(contrat).qpvs(value, errors)

    def communes(self, value, errors) -> list[Commune]:
        return self.territory(None).communes(value, errors, label="Commune(s)")

    def statut(self, value, errors) -> str | None:
        text = _text(value)
        if not text:
            return None
        statut = self.statuts.get(normalise(text))
        if statut is None:
            errors.append(f"statut inconnu « {text} »")
        return statut


class _Recorded:
    """The recorded actions a file may designate, read in one query with their QPVs and their
    financing lines of the file's years, instead of queries line by line."""

    def __init__(self, rows, lookups: "_Lookups"):
        years, numbers, porteurs = set(), set(), set()
        for _line, values, *_ in rows:
            year = _year(values.get("exercice"), "", [])
            if year:
                years.add(year)
            try:
                numero = parse_numero(values.get("dauphin"))
            except CellError:
                numero = None
            if numero:
                numbers.add(numero.key)
            porteur = lookups.known_porteur(values)
            if porteur is not None:
                porteurs.add(porteur.pk)
        # Stored numbers may be written another way ('DA-2026-00123'): matched on their key.
        numbered = [
            pk
            for pk, stored, annee in Action.objects.filter(annee__in=years)
            .exclude(numero_dauphin="")
            .values_list("pk", "numero_dauphin", "annee")
            if numero_key(stored) in numbers
        ]
        actions = (
            Action.objects.filter(annee__in=years)
            .filter(Q(pk__in=numbered) | Q(porteur_id__in=porteurs))
            .select_related("contrat")
            .prefetch_related(
                "qpvs",
                Prefetch(
                    "financements",
                    queryset=Financement.objects.filter(annee__in=years),
                    to_attr="lines_of_years",
                ),
            )
        )
        self.by_number: dict[tuple, Action] = {}
        self.by_porteur: dict[tuple, list[Action]] = defaultdict(list)
        for action in actions:
            if action.numero_dauphin:
                self.by_number[(numero_key(action.numero_dauphin), action.annee)] = action
            self.by_porteur[(action.porteur_id, action.annee)].append(action)
        self.editable = None
        if lookups.sector_qpv_ids is not None:
            self.editable = set(
                Action.objects.editable_by(lookups.user)
                .filter(pk__in=[a.pk for a in actions])
                .values_list("pk", flat=True)
            )

    @staticmethod
    def line(action: Action, financeur_pk: int, annee: int) -> Financement | None:
        return next(
            (
                f
                for f in getattr(action, "lines_of_years", [])
                if f.financeur_id == financeur_pk and f.annee == annee
            ),
            None,
        )


# The import resolves foreign keys itself from reference data it has just read, and checks the
# rules of the models' constraints on its own lines (one query per constraint and line otherwise):
# full_clean() checks the fields only. The database constraints stay the last line of defence.
ACTION_FK = ["contrat", "porteur", "programme", "referent", "appel"]
FINANCEMENT_FK = ["action", "financeur"]


COLUMN_LABELS = {column.key: column.header for column in COLUMNS}


def _without_formulas(values: dict, errors: list[str]) -> dict:
    """The cells of a line, a formula without its computed value reported and read as empty."""
    if not any(isinstance(v, core_imports.UncachedFormula) for v in values.values()):
        return values
    clean = dict(values)
    for key, value in values.items():
        if isinstance(value, core_imports.UncachedFormula):
            errors.append(
                f"{COLUMN_LABELS.get(key, AMOUNT_LABELS.get(key, key))} : {value.message}"
            )
            clean[key] = None
    return clean


def _same_numero(action: Action, numero) -> bool:
    return bool(action.numero_dauphin) and numero_key(action.numero_dauphin) == numero.key


def _constraint_message(model, suffix: str) -> str:
    return next(
        str(c.violation_error_message) for c in model._meta.constraints if c.name.endswith(suffix)
    )


class _Planner:
    """Walks the lines in order, grouping those of one action, without writing anything."""

    def __init__(self, user, *, styles=None, style=None, create=None):
        self.user = user
        self.styles = styles or {}
        self.style = style  # chosen by the person; else each column's own hints
        self.plan = ImportPlan()
        self.lookups = _Lookups(user, plan=self.plan, create=create)
        self.recorded: _Recorded | None = None  # set by action_import_plan()
        self.groups: dict[tuple, _ActionPlan] = {}
        self.lines_by_action: dict[int, int] = {}  # existing action pk -> first line

    def _amount(self, values: dict, key: str, label: str, errors: list) -> Decimal | None:
        try:
            return parse_amount(values.get(key), style=self.style or self.styles.get(key))
        except core_imports.AmbiguousAmount as error:
            self.plan.ambiguous = True
            errors.append(f"{label} : {error}")
        except CellError as error:
            errors.append(f"{label} : {error}")
        return None

    def _collect(self, values: dict, financings: list[dict], errors: list) -> None:
        """Checks the cells that do not depend on the porteur, so a row shows all its errors."""
        contrat = self.lookups.contrat(values.get("contrat"), errors)
        _year(values.get("fin"), "Fin", errors)
        if contrat:
            self.lookups.qpvs(values.get("qpv"), contrat, errors)
        self.lookups.communes(values.get("communes"), errors)
        self.lookups.statut(values.get("statut"), errors)
        self._amount(values, "cout_total", "Coût total", errors)
        for financing in financings:
            for key in AMOUNT_FIELDS:
                self._amount(financing, key, AMOUNT_LABELS[key], errors)
            name = financing.get("financeur")
            if isinstance(name, int) or _text(name):
                self.lookups.financeur(name, errors)

    def add(self, line: int, values: dict, financings: list[dict] | None = None) -> None:
        """One line of the file: its action's columns in `values`, its financing lines in
        `financings` (the line itself in the long format, one per funder in the wide one)."""
        if financings is None:
            financings = [values]
        formulas: list[str] = []
        values = _without_formulas(values, formulas)
        financings = [_without_formulas(f, formulas) for f in financings]
        row = RowResult(numero=line, titre=_text(values.get("titre")))
        row.errors.extend(dict.fromkeys(formulas))
        self.plan.rows.append(row)
        errors = row.errors
        annee = _year(values.get("exercice"), "Exercice", errors)
        for key, label in (("titre", "Intitulé"), ("porteur", "Porteur")):
            try:
                core_imports.parse_text(values.get(key), name=True)
            except CellError as error:
                errors.append(f"{label} : {error}")
        if annee is None:
            if not errors:
                errors.append("exercice manquant")
            self._collect(values, financings, errors)
            return
        try:
            numero = parse_numero(values.get("dauphin"))
        except CellError as error:
            errors.append(f"N° Dauphin : {error}")
            self._collect(values, financings, errors)
            return
        dauphin = str(numero) if numero else ""
        group = self.groups.get(("dauphin", numero.key, annee)) if numero else None
        if group and row.titre and normalise(row.titre) != group.titre_norm:
            errors.append(
                f"le n° Dauphin « {dauphin} » de l'exercice {annee} est déjà utilisé ligne "
                f"{group.line} pour une autre action"
            )
            return
        if group is None:
            if not row.titre and not any(e.startswith("Intitulé :") for e in errors):
                errors.append("intitulé manquant")
            porteur = self.lookups.porteur(values, errors, line=line, warnings=row.warnings)
            if errors:
                self._collect(values, financings, errors)
                return
            title_key = ("titre", normalise(row.titre), porteur.pk or id(porteur), annee)
            group = self.groups.get(title_key) if not dauphin else None
            if group is None:
                group = self._new_action(row, values, annee, numero, porteur)
                self.groups.setdefault(title_key, group)
                if numero:
                    self.groups[("dauphin", numero.key, annee)] = group
                self.plan.actions.append(group)
        if group.line != line:
            row.action = CONTINUED
        if not financings:
            row.warnings.append("aucun montant sur cette ligne : pas de ligne de financement")
        for position, financing in enumerate(financings):
            target = row
            if position:  # the wide format's next funder: one more line in the preview
                target = RowResult(numero=line, titre=row.titre, action=CONTINUED)
                self.plan.rows.append(target)
            self._add_financement(group, target, financing, annee)

    def _new_action(self, row, values, annee, numero, porteur) -> _ActionPlan:
        dauphin = str(numero) if numero else ""
        errors = row.errors
        group = _ActionPlan(line=row.numero, titre_norm=normalise(row.titre))
        contrat = self.lookups.contrat(values.get("contrat"), errors)
        fin = _year(values.get("fin"), "Fin", errors)
        qpvs = self.lookups.qpvs(values.get("qpv"), contrat, errors) if contrat else []
        communes = self.lookups.communes(values.get("communes"), errors)
        statut = self.lookups.statut(values.get("statut"), errors)
        cout_total = self._amount(values, "cout_total", "Coût total", errors)
        if contrat and not contrat.annee_debut <= annee <= contrat.annee_fin:
            errors.append(
                f"l'exercice {annee} est hors de la période du contrat "
                f"({contrat.annee_debut}–{contrat.annee_fin})"
            )
        if fin is not None and fin <= annee:
            errors.append(f"la fin ({fin}) doit suivre l'exercice ({annee})")
        elif fin is not None and contrat and fin > contrat.annee_fin:
            errors.append(f"la fin ({fin}) dépasse la période du contrat")
        errors.extend(qpvs_outside(qpvs, communes))
        existing = self._find_existing(numero, row.titre, porteur, annee, row.numero, errors)
        if statut and (existing is None or statut != existing.statut):
            judged = existing or Action(statut=Action.Statut.DEPOSE)
            if statut not in rights.statuts_open_to(self.user, judged) or (
                existing is not None
                and not rights.action_field_editable(self.user, existing, "statut")
            ):
                errors.append(
                    f"Statut : « {Action.Statut(statut).label} » est une décision du comité, "
                    "seul le chef de service l'enregistre"
                )
        if errors:
            return group

        if existing is None:
            action = Action(
                contrat=contrat,
                titre=row.titre,
                porteur=porteur,
                annee=annee,
                annee_fin=fin,
                numero_dauphin=dauphin,
                statut=statut or Action.Statut.DEPOSE,
                cout_total=cout_total if cout_total is not None else Decimal("0.00"),
                referent=self.user if self.user.is_chef_projet else None,
            )
            status, changes = CREATE, []
        else:
            action = existing
            before = _snapshot(action, ACTION_FIELDS)
            action.contrat, action.titre, action.porteur = contrat, row.titre, porteur
            for name, value in [
                ("annee_fin", fin),
                # A number stored in another form ('DA-…') is the same dossier: kept as it is.
                (
                    "numero_dauphin",
                    dauphin if numero and not _same_numero(existing, numero) else None,
                ),
                ("statut", statut),
                ("cout_total", cout_total),
            ]:
                if value is not None:
                    setattr(action, name, value)
            changes = _changed_labels(action, before)
            if qpvs and {q.pk for q in qpvs} != {q.pk for q in existing.qpvs.all()}:
                changes.append("QPV ciblés")
            status = UPDATE if changes else UNCHANGED
        if not self._in_sector(action, existing, qpvs, errors):
            return group
        try:
            action.full_clean(exclude=ACTION_FK, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            errors.extend(_error_messages(error, Action))
            return group
        group.action, group.status, group.qpvs = action, status, qpvs or None
        row.action, row.changes = status, changes
        return group

    def _find_existing(self, numero, titre, porteur, annee, line, errors) -> Action | None:
        found = None
        dauphin = str(numero) if numero else ""
        if numero:
            found = self.recorded.by_number.get((numero.key, annee))
        if found is None and porteur.pk is not None:  # a porteur to create has no action yet
            candidates = [
                action
                for action in self.recorded.by_porteur.get((porteur.pk, annee), [])
                if normalise(action.titre) == normalise(titre)
                and not (dauphin and action.numero_dauphin)
            ]
            if len(candidates) > 1:
                errors.append(
                    "plusieurs actions enregistrées ont cet intitulé, ce porteur et cet exercice : "
                    "indiquez le n° Dauphin"
                )
                return None
            found = candidates[0] if candidates else None
        if found and found.pk in self.lines_by_action:
            errors.append(
                f"cette ligne désigne la même action que la ligne {self.lines_by_action[found.pk]}"
            )
            return None
        if found:
            self.lines_by_action[found.pk] = line
        return found

    def _check_rights(self, action, financement, existing, errors, *, reprise) -> None:
        """A chef de projet sets no voted or paid amount, and no requested one once decided;
        only those who record payments import a paid amount."""
        for name in FINANCEMENT_FIELDS:
            old = getattr(existing, name) if existing else None
            new = getattr(financement, name)
            if new != old and not rights.financement_field_editable(self.user, action, name):
                label = str(Financement._meta.get_field(name).verbose_name)
                errors.append(_rights_error(label[:1].upper() + label[1:]))
        if reprise and not rights.may_record_payments(self.user):
            errors.append(_rights_error("Montant versé"))

    def _in_sector(self, action, existing, qpvs, errors) -> bool:
        """A chef de projet imports only actions whose QPVs are all in their sector."""
        sector = self.lookups.sector_qpv_ids
        if sector is None:
            return True
        if existing and existing.pk not in self.recorded.editable:
            errors.append(
                f"hors de votre secteur : l'action enregistrée « {existing.titre} » ne vous est "
                "pas ouverte"
            )
            return False
        final = qpvs or (list(existing.qpvs.all()) if existing else [])
        if not final:
            errors.append("hors de votre secteur : indiquez au moins un QPV de votre secteur")
            return False
        outside = [qpv.nom for qpv in final if qpv.pk not in sector]
        if outside:
            errors.append(
                "hors de votre secteur : " + ", ".join(f"QPV « {name} »" for name in outside)
            )
            return False
        return True

    def _add_financement(self, group, row, values, annee) -> None:
        errors = row.errors
        name = values.get("financeur")
        name = name if isinstance(name, int) else _text(name)
        demande = self._amount(values, "montant_demande", "Montant demandé", errors)
        vote = self._amount(values, "montant_vote", "Montant voté", errors)
        verse = self._amount(values, "montant_verse", "Montant versé", errors)
        row.montants = {
            label: amount
            for label, amount in (("demandé", demande), ("voté", vote), ("versé", verse))
            if amount is not None
        }
        if not name:
            if any(_text(values.get(key)) for key in AMOUNT_FIELDS):
                errors.append("montant sans financeur : indiquez le financeur")
            return
        financeur = self.lookups.financeur(name, errors)
        if financeur is None:
            return
        row.financeur = name = str(financeur) if isinstance(name, int) else name
        if financeur.pk in group.financements:
            errors.append(
                f"le financeur « {name} » figure déjà ligne "
                f"{group.financements[financeur.pk].line} pour cette action"
            )
            return
        if group.broken or errors:
            return
        action = group.action
        existing = None
        if action.pk:
            existing = self.recorded.line(action, financeur.pk, annee)
        if existing is None:
            if demande is None:
                errors.append(f"montant demandé manquant pour le financeur « {name} »")
                return
            financement = Financement(
                action=action,
                financeur=financeur,
                annee=annee,
                montant_demande=demande,
                montant_vote=vote,
            )
            row.financement = CREATE
        else:
            financement = existing
            before = _snapshot(financement, FINANCEMENT_FIELDS)
            for name_, value in zip(FINANCEMENT_FIELDS, (demande, vote), strict=True):
                if value is not None:
                    setattr(financement, name_, value)
            changes = _changed_labels(financement, before)
            if verse is not None and verse > financement.montant_verse:
                changes.append("montant versé")
            row.financement = UPDATE if changes else UNCHANGED
        # The file gives the total paid; what it adds to the recorded payments becomes one
        # payment "reprise". Less than recorded would undo payments: not by an import.
        paid = financement.montant_verse
        if verse is not None and verse < paid:
            errors.append(
                f"Montant versé : {euros(paid)} déjà enregistrés en versements sur cette ligne ; "
                "un versement se corrige sur la page du dossier, pas par un import"
            )
            return
        reprise = verse - paid if verse is not None else Decimal("0.00")
        self._check_rights(action, financement, existing, errors, reprise=reprise)
        if errors:
            return
        try:
            financement.full_clean(
                exclude=FINANCEMENT_FK, validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            errors.extend(_error_messages(error, Financement))
            return
        total_paid = paid + reprise
        if total_paid and (
            financement.montant_vote is None or total_paid > financement.montant_vote
        ):
            errors.append(_constraint_message(Financement, "_paid_within_voted"))
            return
        group.financements[financeur.pk] = _FinancementPlan(
            financement, row.financement, row.numero, reprise
        )


AMOUNT_LABELS = {
    "cout_total": "Coût total",
    "montant_demande": "Montant demandé",
    "montant_vote": "Montant voté",
    "montant_verse": "Montant versé",
}


def _rights_error(label: str) -> str:
    return f"{label} : réservé au chef de service, il ne peut pas être saisi par votre import"


def action_import_plan(
    *,
    rows,
    user,
    styles: dict | None = None,
    style: str | None = None,
    create: set[str] | None = None,
) -> ImportPlan:
    """What importing these lines would do, line by line, with every error; writes nothing.

    `rows` are (line, values) in the long format or (line, values, financings) from
    mapped_rows(). `styles` gives each amount kind's style read from its own cells, `style` the
    one the person chose for the whole file ('fr': 1.200 is twelve hundred, 'en': one point
    two). `create` holds the keys of the unknown porteurs the person left ticked for creation
    (None: all of them, as on the first preview)."""
    rows = list(rows)
    planner = _Planner(user, styles=styles, style=style, create=create)
    planner.recorded = _Recorded(rows, planner.lookups)
    for line, values, *financings in rows:
        planner.add(line, values, financings[0] if financings else None)
    return planner.plan


@transaction.atomic
def action_import_apply(*, plan: ImportPlan, user) -> ImportPlan:
    """Saves a plan without error: every action and financing line, or nothing.

    New actions and lines are inserted in batches with their history rows
    (django-simple-history's bulk_create_with_history); changed ones are saved one by one. The
    database constraints check again what the plan checked."""
    if not plan.ok:
        raise ValidationError(plan.errors or ["Le fichier ne contient aucune ligne."])
    if plan.to_create:
        plan.to_create.save()
    groups = [group for group in plan.actions if not group.broken]
    for group in groups:
        group.action.porteur = group.action.porteur  # a porteur created above gives its id
    created = [group for group in groups if group.action.pk is None]
    bulk_create_with_history([g.action for g in created], Action, default_user=user)
    qpv_links = Action.qpvs.through
    qpv_links.objects.bulk_create(
        qpv_links(action_id=g.action.pk, qpv_id=qpv.pk) for g in created for qpv in g.qpvs or []
    )
    for group in groups:
        if group.status == UPDATE:
            group.action._history_user = user
            group.action.save()
            if group.qpvs is not None:
                group.action.qpvs.set(group.qpvs)
    editable = set(
        Action.objects.editable_by(user)
        .filter(pk__in=[g.action.pk for g in groups])
        .values_list("pk", flat=True)
    )
    new_lines = []
    for group in groups:
        rights.require(group.action.pk in editable, f"ligne {group.line} : hors de votre secteur")
        for line in group.financements.values():
            financement = line.financement
            financement.action = group.action
            if line.status == CREATE:
                new_lines.append(financement)
            elif line.status == UPDATE:
                financement._history_user = user
                financement.save()
    bulk_create_with_history(new_lines, Financement, default_user=user)
    # Paid amounts: one payment "reprise" per line, then the lines' paid totals in one refresh.
    payments.import_reprises(
        [
            (line.financement, line.reprise)
            for group in groups
            for line in group.financements.values()
            if line.reprise
        ],
        user=user,
    )
    return plan
