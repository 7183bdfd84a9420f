"""Import of a council's members from a spreadsheet (.xlsx or .csv): check, preview, apply."""

import csv
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from core import imports as core_imports
from core import spreadsheets
from cvu.models import Organisation

from .models import AccesDonnees, ConseilCitoyen, Membre

MAX_ROWS = 500
COLUMNS = {
    "prenom": "Prénom",
    "nom": "Nom",
    "college": "Collège",
    "genre": "Genre",
    "tranche_age": "Tranche d'âge",
    "resident_qpv": "Habite le QPV",
    "designation": "Désignation",
    "mandat_debut": "Début du mandat",
    "mandat_fin": "Fin du mandat",
    "statut": "Statut",
    "organisation": "Organisation",
    "email": "E-mail",
    "telephone": "Téléphone",
    "base_legale": "Base légale",
    "date_consentement": "Date du consentement",
}
REQUIRED = [
    "prenom",
    "nom",
    "college",
    "genre",
    "tranche_age",
    "designation",
    "mandat_debut",
    "base_legale",
]
CHOICES = {
    "college": Membre.College,
    "genre": Membre.Genre,
    "tranche_age": Membre.TrancheAge,
    "designation": Membre.Designation,
    "statut": Membre.Statut,
    "base_legale": Membre.BaseLegale,
}
# Other headers that name a column, as member lists kept by hand write them (folded: lower case,
# no accents, apostrophes as spaces). A members' file holds personal data: it is not kept on the
# server while a person maps its columns, so the columns are recognised by these words.
SYNONYMS = {
    "prenom": ("prenom", "prenoms"),
    "nom": ("nom de famille", "nom d usage"),
    "genre": ("sexe", "civilite"),
    "tranche_age": ("age", "tranche age", "classe d age", "tranche d age"),
    "resident_qpv": ("resident qpv", "resident du qpv", "habitant du qpv", "habite en qpv"),
    "designation": ("mode de designation", "designe par"),
    "mandat_debut": ("debut de mandat", "date de debut", "debut"),
    "mandat_fin": ("fin de mandat", "date de fin", "fin"),
    "organisation": ("structure", "association"),
    "email": ("email", "courriel", "mail", "adresse e-mail", "adresse mail"),
    "telephone": ("tel", "portable", "telephone portable"),
    "base_legale": ("base juridique",),
    "date_consentement": ("consentement le", "date de consentement"),
}
YES, NO = {"oui", "o", "vrai", "1", "x", "yes"}, {"non", "n", "faux", "0", "no", ""}


class ImportFileError(Exception):
    """The file cannot be read at all."""


def fold(text) -> str:
    text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return " ".join(text.lower().replace("'", " ").split())


@dataclass
class Ligne:
    numero: int
    membre: Membre | None = None
    erreurs: list[str] = field(default_factory=list)


def _rows(content: bytes, filename: str) -> list[list]:
    max_lines = 2 * MAX_ROWS + 1  # empty lines count: a file of a million blank lines stops here
    try:
        if filename.lower().endswith(".xlsx"):
            return [
                list(row)
                for row in spreadsheets.read_xlsx(content, max_lines=max_lines, active=True)
            ]
        if filename.lower().endswith(".csv"):
            return spreadsheets.read_csv(
                content,
                max_lines=max_lines,
                encodings=("utf-8-sig",),
                delimiter=_delimiter(content),
                unreadable="Le fichier CSV doit être enregistré en UTF-8.",
            )
    except ValidationError as error:
        raise ImportFileError(" ".join(error.messages)) from None
    raise ImportFileError("Déposez un fichier .xlsx ou .csv.")


def _delimiter(content: bytes) -> str:
    first = content.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    try:
        return csv.Sniffer().sniff(first or ";", delimiters=";,\t").delimiter
    except csv.Error:
        return ";"


def _choice(value, enum, label: str) -> str:
    wanted = fold(value)
    for choice_value, choice_label in enum.choices:
        if wanted in (fold(choice_value), fold(choice_label)):
            return choice_value
    allowed = ", ".join(str(choice_label) for _v, choice_label in enum.choices)
    raise ValueError(f"{label} « {value} » inconnu (valeurs possibles : {allowed})")


def _date(value, label: str) -> date | None:
    try:
        return core_imports.parse_date(value)
    except core_imports.CellError as error:
        raise ValueError(f"{label} {error}") from None


def _column_names() -> dict[str, str]:
    """Folded header -> column key: the template's labels and their synonyms."""
    names = {fold(label): key for key, label in COLUMNS.items()}
    for key, words in SYNONYMS.items():
        for word in words:
            names.setdefault(fold(word), key)
    return names


def check(
    *, conseil: ConseilCitoyen, content: bytes, filename: str, report: list | None = None
) -> list[Ligne]:
    """Reads and validates every row; writes nothing. `report` receives what the reading did
    (header line, columns ignored), in French."""
    rows = _rows(content, filename)
    if not rows:
        raise ImportFileError("Le fichier est vide.")
    names = _column_names()
    try:
        start = core_imports.find_header(rows, lambda title: names.get(fold(title)))
    except ValidationError as error:
        raise ImportFileError(" ".join(error.messages)) from None
    rows = rows[start:]
    index = {key: None for key in COLUMNS}
    ignored = []
    for position, header in enumerate(rows[0]):
        key = names.get(fold(header)) if header not in (None, "") else None
        if key is not None and index[key] is None:
            index[key] = position
        elif header not in (None, ""):
            ignored.append(str(header))
    if report is not None:
        report.append(f"En-têtes lus ligne {start + 1}.")
        if ignored:
            report.append(
                "Colonne(s) ignorée(s) : " + ", ".join(f"« {name} »" for name in ignored) + "."
            )
    missing = [COLUMNS[key] for key in REQUIRED if index[key] is None]
    if missing:
        raise ImportFileError(f"Colonne(s) manquante(s) : {', '.join(missing)}.")
    if len(rows) - 1 > MAX_ROWS:
        raise ImportFileError(f"Au plus {MAX_ROWS} membres par fichier.")
    organisations = {fold(o.nom): o for o in Organisation.objects.all()}
    lignes, seen = [], {}
    for numero, row in enumerate(rows[1:], start=start + 2):
        if not any(cell not in (None, "") for cell in row) or core_imports.is_total(row):
            continue
        cell = {
            key: (row[i] if i is not None and i < len(row) else None) for key, i in index.items()
        }
        ligne = Ligne(numero)
        data = {}
        for key in ("prenom", "nom"):
            try:
                core_imports.parse_text(cell[key], name=True)
            except core_imports.CellError as error:
                ligne.erreurs.append(f"{COLUMNS[key]} : {error}")
        for key, enum in CHOICES.items():
            if cell[key] in (None, "") and key == "statut":
                data[key] = Membre.Statut.ACTIF
                continue
            try:
                data[key] = _choice(cell[key], enum, COLUMNS[key])
            except ValueError as error:
                ligne.erreurs.append(str(error))
        resident = fold(cell["resident_qpv"])
        if resident not in YES | NO:
            ligne.erreurs.append(f"Habite le QPV « {cell['resident_qpv']} » : répondez oui ou non")
        for key in ("mandat_debut", "mandat_fin", "date_consentement"):
            try:
                data[key] = _date(cell[key], COLUMNS[key])
            except ValueError as error:
                ligne.erreurs.append(str(error))
        organisation = None
        if cell["organisation"] not in (None, ""):
            organisation = organisations.get(fold(cell["organisation"]))
            if organisation is None:
                ligne.erreurs.append(f"organisation « {cell['organisation']} » inconnue")
        key = (fold(cell["prenom"]), fold(cell["nom"]))
        if key in seen:
            ligne.erreurs.append(f"{cell['prenom']} {cell['nom']} figure déjà ligne {seen[key]}")
        seen[key] = numero
        if not ligne.erreurs:
            membre = Membre(
                conseil=conseil,
                prenom=str(cell["prenom"] or "").strip(),
                nom=str(cell["nom"] or "").strip(),
                resident_qpv=resident in YES,
                organisation=organisation,
                email=str(cell["email"] or "").strip(),
                telephone=str(cell["telephone"] or "").strip(),
                **data,
            )
            try:
                # The council and the organisation come from the database already: not checked
                # again with a query per line.
                membre.full_clean(exclude=["conseil", "organisation"])
            except ValidationError as error:
                for field_name, messages in error.message_dict.items():
                    label = COLUMNS.get(field_name, "")
                    ligne.erreurs += [f"{label} : {m}" if label else m for m in messages]
            else:
                ligne.membre = membre
        lignes.append(ligne)
    return lignes


@transaction.atomic
def apply(*, lignes: list[Ligne], user) -> int:
    """Creates every member, all or nothing; refuses a file with an error."""
    if not lignes or any(ligne.erreurs for ligne in lignes):
        raise ValidationError("Le fichier contient des erreurs : rien n'a été importé.")
    membres = Membre.objects.bulk_create([ligne.membre for ligne in lignes])
    AccesDonnees.objects.bulk_create(
        [
            AccesDonnees(membre=m, utilisateur=user, action=AccesDonnees.Action.MODIFICATION)
            for m in membres
        ]
    )
    return len(membres)
