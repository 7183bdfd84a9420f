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

from core import imports as core_imports
from core import previews
from core.imports import CellError, Table, parse_amount

from .imports import MAX_ROWS, _text, normalise
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


SESSION_KEY = "cvu_import_dauphin"
STORE = previews.DAUPHIN


def _recognise(title: str) -> str | None:
    header = normalise(title).replace("°", "").replace(".", "")
    return next(
        (key for key, (_, _, words) in FIELDS.items() for word in words if word in header), None
    )


def read_table(data: bytes) -> Table:
    """The header and data lines of an .xlsx workbook (first sheet) or a CSV file (; or ,).

    The header is looked for among the first lines, below a title or blank lines; blank and
    total lines are set aside and reported (Table.report)."""
    return core_imports.read_table(
        data,
        recognise=_recognise,
        max_rows=MAX_ROWS,
        unreadable="Ce fichier n'est ni un classeur Excel (.xlsx) ni un fichier CSV : "
        "enregistrez l'export de Dauphin au format .xlsx, puis déposez-le.",
    )


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
    unchanged: bool = False

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
        return sum(1 for ligne in self.lignes if ligne.existing and not ligne.unchanged)

    @property
    def unchanged(self) -> int:
        return sum(1 for ligne in self.lignes if ligne.unchanged)


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
        for a in Action.objects.filter(
            numero_dauphin__in=list(counts), annee=appel.annee
        ).prefetch_related("financements")
    }
    # How '12.000' reads: the column's other amounts say, else those of the other funders.
    file_style = core_imports.amount_style(
        value for index in amount_columns.values() for value in table.column(index)
    )
    styles = {
        pk: core_imports.amount_style(table.column(index)) or file_style
        for pk, index in amount_columns.items()
    }
    first_line: dict[str, int] = {}
    lignes = []
    for number, cells in table.rows:
        dauphin = _text(cells[mapping["numero"]])
        ligne = Ligne(number, dauphin)
        errors = ligne.errors
        if not dauphin:
            errors.append("n° de dossier Dauphin manquant")
        elif dauphin in first_line:
            errors.append(
                f"le n° de dossier {dauphin} figure plusieurs fois dans le fichier : la ligne "
                f"{first_line[dauphin]} est gardée, cette répétition est refusée"
            )
        else:
            first_line[dauphin] = number
        try:
            ligne.titre = core_imports.parse_text(cells[mapping["titre"]], name=True)[:300]
        except CellError as error:
            errors.append(f"intitulé de l'action : {error}")
        if not ligne.titre and not errors[-1:]:
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
                amount = parse_amount(raw, style=styles[pk])
            except CellError as error:
                errors.append(f"montant demandé à {name} : {error}")
                continue
            if amount is not None:  # None: nothing asked of this funder.
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
            recorded = {f.financeur_id: f.montant_demande for f in found.financements.all()}
            ligne.unchanged = (
                found.appel_id == appel.pk
                and found.titre == ligne.titre
                and found.porteur_id == getattr(ligne.porteur, "pk", None)
                and all(recorded.get(pk) == amount for pk, amount in ligne.montants.items())
            )
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
        if ligne.unchanged:
            continue  # No save, so no history line, for a dossier the file leaves as it is.
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
        elif (action.appel_id, action.titre, action.porteur_id) != (
            appel.pk,
            ligne.titre,
            ligne.porteur.pk,
        ):
            action.appel = appel
            action.titre = ligne.titre
            action.porteur = ligne.porteur
            action.save(update_fields=["appel", "titre", "porteur", "updated_at"])
        recorded = {f.financeur_id: f for f in action.financements.filter(annee=appel.annee)}
        for funder_pk, amount in ligne.montants.items():
            line = recorded.get(funder_pk)
            if line is None:
                Financement.objects.create(
                    action=action, financeur_id=funder_pk, annee=appel.annee, montant_demande=amount
                )
            elif line.montant_demande != amount:
                line.montant_demande = amount
                line.save()
    return plan
