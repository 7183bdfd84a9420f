"""Import of the dossiers list exported from Dauphin into a call for projects.

Dauphin's export layouts vary from one year and one service to the next, so the user maps the
file's columns to what we need (guessed from the headers), previews, then applies all or nothing.
Re-importing updates the dossiers found by their Dauphin number instead of duplicating them.
"""

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from core import spreadsheets
from core.numbers import parse_decimal

from .imports import MAX_LINES, MAX_ROWS, _text, normalise
from .models import Action, AppelAProjets, Financement, Organisation
from .validators import normalise_siret, validate_siret_or_siren

# What we need from the file: key -> (label, required, header words that point to it).
FIELDS = {
    "numero": (
        "N° de dossier Dauphin",
        True,
        ["n dossier", "numero dossier", "dossier", "dauphin"],
    ),
    "porteur": ("Nom du porteur", True, ["raison sociale", "porteur", "structure", "organisme"]),
    "siret": ("SIRET du porteur", True, ["siret", "siren"]),
    "titre": ("Intitulé de l'action", True, ["intitule", "titre", "libelle", "action"]),
    "annee": ("Exercice", False, ["exercice", "annee"]),
}
EXTENSIONS = (".xlsx", ".csv")
# Funder types whose name alone designates one funder in a Dauphin header.
TYPE_WORDS = {"etat", "caf", "region", "departement", "epci"}


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list]]  # (line number in the file, cells)


def read_table(data: bytes) -> Table:
    """The header and data lines of an .xlsx workbook (first sheet) or a CSV file (; or ,)."""
    if spreadsheets.is_xlsx(data):
        lines = spreadsheets.read_xlsx(data, max_lines=MAX_LINES)
    else:
        lines = spreadsheets.read_csv(
            data,
            max_lines=MAX_LINES,
            unreadable="Ce fichier n'est ni un classeur Excel (.xlsx) ni un fichier CSV : "
            "enregistrez l'export de Dauphin au format .xlsx, puis déposez-le.",
        )
    if not lines or not any(_text(cell) for cell in lines[0]):
        raise ValidationError("Le fichier est vide : la première ligne doit porter les en-têtes.")
    headers = [_text(cell) for cell in lines[0]]
    rows = []
    for number, cells in enumerate(lines[1:], start=2):
        if all(_text(cell) == "" for cell in cells):
            continue
        rows.append((number, list(cells) + [None] * (len(headers) - len(cells))))
    if not rows:
        raise ValidationError("Le fichier ne contient aucune ligne sous la ligne d'en-tête.")
    if len(rows) > MAX_ROWS:
        raise ValidationError(
            f"Le fichier compte plus de {MAX_ROWS} lignes : découpez-le en plusieurs fichiers."
        )
    return Table(headers, rows)


def check_name(name: str) -> None:
    if not name.lower().endswith(EXTENSIONS):
        raise ValidationError(
            "Déposez l'export de Dauphin au format .xlsx ou .csv (les fichiers .xls et .ods ne "
            "sont pas acceptés : enregistrez-les d'abord au format .xlsx)."
        )


# ---------------------------------------------------------------- mapping


def funders(appel: AppelAProjets) -> list[Organisation]:
    """The funders whose requested amounts the file may carry: those with an envelope."""
    return [
        e.financeur for e in appel.enveloppes.select_related("financeur").order_by("financeur__nom")
    ]


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
                if i not in taken and word in header.replace("°", "").replace(".", "")
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
class Ligne:
    numero: int
    dauphin: str
    titre: str = ""
    porteur: Organisation | None = None
    montants: dict[int, Decimal] = field(default_factory=dict)  # funder pk -> requested
    existing: Action | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def operation(self) -> str:
        return "mise à jour" if self.existing else "création"

    @property
    def total(self) -> Decimal:
        return sum(self.montants.values(), Decimal("0.00"))


@dataclass
class Plan:
    lignes: list[Ligne]
    funders: dict[int, Organisation]

    @property
    def ok(self) -> bool:
        return all(not ligne.errors for ligne in self.lignes)

    @property
    def errors(self) -> list[Ligne]:
        return [ligne for ligne in self.lignes if ligne.errors]

    @property
    def created(self) -> int:
        return sum(1 for ligne in self.lignes if not ligne.existing)

    @property
    def updated(self) -> int:
        return sum(1 for ligne in self.lignes if ligne.existing)


def _by_siret() -> tuple[dict[str, Organisation], dict[str, list[Organisation]]]:
    exact, by_siren = {}, {}
    for organisation in Organisation.objects.exclude(siret=""):
        exact[organisation.siret] = organisation
        by_siren.setdefault(organisation.siret[:9], []).append(organisation)
    return exact, by_siren


def plan_import(*, table: Table, mapping: dict, appel: AppelAProjets) -> Plan:
    """Checks every line against today's data; nothing is written."""
    missing = [
        label
        for key, (label, required, _) in FIELDS.items()
        if required and mapping.get(key) is None
    ]
    if missing:
        raise ValidationError("Indiquez la colonne de : " + ", ".join(missing) + ".")
    funder_list = {f.pk: f for f in funders(appel)}
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

    exact, by_siren = _by_siret()
    numbers = [_text(cells[mapping["numero"]]) for _, cells in table.rows]
    counts = Counter(n for n in numbers if n)
    existing = {
        a.numero_dauphin: a
        for a in Action.objects.filter(numero_dauphin__in=list(counts), annee=appel.annee)
    }
    lignes = []
    for number, cells in table.rows:
        dauphin = _text(cells[mapping["numero"]])
        ligne = Ligne(number, dauphin)
        errors = ligne.errors
        if not dauphin:
            errors.append("n° de dossier Dauphin manquant")
        elif counts[dauphin] > 1:
            errors.append(f"le n° de dossier {dauphin} figure plusieurs fois dans le fichier")
        ligne.titre = _text(cells[mapping["titre"]])[:300]
        if not ligne.titre:
            errors.append("intitulé de l'action manquant")
        ligne.porteur = _porteur(
            _text(cells[mapping["porteur"]]),
            _text(cells[mapping["siret"]]),
            exact,
            by_siren,
            errors,
        )
        if mapping.get("annee") is not None:
            year = _text(cells[mapping["annee"]])
            if year and year != str(appel.annee):
                errors.append(
                    f"exercice {year} : cet appel à projets porte sur l'exercice {appel.annee}"
                )
        for pk, index in amount_columns.items():
            raw = cells[index]
            name = funder_list[pk].sigle or funder_list[pk].nom
            try:
                amount = parse_decimal(raw)
            except ValueError as error:
                errors.append(f"montant demandé à {name} : {error}")
                continue
            if amount is None:
                continue  # Nothing asked of this funder.
            if amount < 0:
                errors.append(f"montant demandé à {name} négatif ({_text(raw)})")
            elif amount > Decimal("9999999999.99"):
                errors.append(f"montant demandé à {name} trop grand ({_text(raw)})")
            else:
                ligne.montants[pk] = amount
        if not errors and not any(ligne.montants.values()):
            errors.append(
                "aucun montant demandé : toutes les colonnes de montant sont vides ou à 0"
            )
        found = existing.get(dauphin)
        if found is not None:
            if found.appel_id not in (None, appel.pk):
                errors.append(f"le dossier {dauphin} appartient déjà à un autre appel à projets")
            ligne.existing = found
        lignes.append(ligne)
    return Plan(lignes, funder_list)


def _porteur(name, siret, exact, by_siren, errors) -> Organisation | None:
    if not siret:
        errors.append(f"SIRET du porteur « {name} » manquant")
        return None
    try:
        validate_siret_or_siren(siret)
    except ValidationError as error:
        errors.append(f"SIRET « {siret} » : {' '.join(error.messages)}")
        return None
    digits = normalise_siret(siret)
    organisation = exact.get(digits)
    if organisation is None:
        candidates = by_siren.get(digits[:9], [])
        siren_only = [o for o in candidates if len(o.siret) == 9]
        organisation = siren_only[0] if len(siren_only) == 1 else None
    if organisation is None:
        errors.append(
            f"SIRET inconnu {digits} (« {name} ») : créez d'abord cette organisation dans "
            "Organisations"
        )
    return organisation


@transaction.atomic
def apply_import(*, plan: Plan, appel: AppelAProjets) -> Plan:
    """Creates or updates the dossiers and their requested amounts, all or nothing."""
    if not plan.ok:
        raise ValidationError("Le fichier comporte des erreurs : rien n'a été enregistré.")
    for ligne in plan.lignes:
        action = ligne.existing
        if action is None:
            action = Action.objects.create(
                contrat=appel.contrat,
                appel=appel,
                annee=appel.annee,
                titre=ligne.titre,
                porteur=ligne.porteur,
                numero_dauphin=ligne.dauphin,
                statut=Action.Statut.DEPOSE,
            )
        else:
            action.appel = appel
            action.titre = ligne.titre
            action.porteur = ligne.porteur
            action.save(update_fields=["appel", "titre", "porteur", "updated_at"])
        for funder_pk, amount in ligne.montants.items():
            Financement.objects.update_or_create(
                action=action,
                financeur_id=funder_pk,
                annee=appel.annee,
                defaults={"montant_demande": amount},
            )
    return plan
