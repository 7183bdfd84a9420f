"""The open-data export of the collectivité's grants (décret n° 2017-779 du 5 mai 2017, arrêté du
17 novembre 2017): the "données essentielles des conventions de subvention" in the SCDL
"subventions" schema, version 2.0.2 (schema.data.gouv.fr, scdl/subventions), whose 14 fields
are those of the arrêté.

Only the collectivité's own grants go out: the financing lines it funds (voted, of the year, of
a dossier neither refused nor withdrawn), about legal bodies; nothing about inhabitants.
"""

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch

from .figures import NOT_FUNDED
from .models import DecisionComite, Financement, Organisation

SCHEMA = "SCDL subventions 2.0.2"
FIELDS = (
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "referenceDecision",
    "nomBeneficiaire",
    "idBeneficiaire",
    "objet",
    "montant",
    "nature",
    "conditionsVersement",
    "datesPeriodeVersement",
    "idRAE",
    "notificationUE",
    "pourcentageSubvention",
)
NATURE = "aide en numéraire"
UNIQUE, ECHELONNE = "unique", "échelonné"
OBJET_MAX = 256  # the schema's maxLength
SIRET = re.compile(r"^\d{14}$")
# One beneficiary per grant: 100 %, written "1.00" as the schema says.
POURCENTAGE = Decimal("1.00")


class OpenDataError(Exception):
    """The export cannot be built (no collectivité identified); the message says what to do."""


@dataclass
class Export:
    annee: int
    attribuant: Organisation
    rows: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((row["montant"] for row in self.rows), Decimal("0.00"))

    def filename(self, fmt: str) -> str:
        return f"subventions-{self.annee}-{self.attribuant.siret}.{fmt}"


def collectivite(annee: int) -> Organisation:
    """The grant-giver: the EPCI that signed the contract(s) in force in `annee`, or else the
    only EPCI among the organisations. Refuses when none, several, or without a SIRET."""
    epcis = Organisation.objects.filter(type=Organisation.Type.EPCI)
    signatories = list(
        epcis.filter(
            contrats_signes__annee_debut__lte=annee, contrats_signes__annee_fin__gte=annee
        ).distinct()[:2]
    )
    candidates = signatories or list(epcis[:2])
    if not candidates:
        raise OpenDataError(
            "Aucune organisation de type EPCI : créez la collectivité (type EPCI, avec son SIRET) "
            "et ajoutez-la aux signataires du contrat de ville."
        )
    if len(candidates) > 1:
        where = "signent le contrat de ville" if signatories else "sont enregistrés"
        raise OpenDataError(
            f"Plusieurs EPCI {where} pour {annee} : la collectivité qui publie ne peut être "
            "déterminée. Ne laissez qu'un EPCI parmi les signataires du contrat de ville."
        )
    attribuant = candidates[0]
    if not SIRET.match(attribuant.siret):
        raise OpenDataError(
            f"« {attribuant.nom} » n'a pas de SIRET à 14 chiffres (identifiant de l'attribuant, "
            "obligatoire) : complétez sa fiche organisation."
        )
    return attribuant


def _lines(user, attribuant: Organisation, annee: int):
    programmed = DecisionComite.objects.filter(sens=DecisionComite.Sens.PROGRAMME).select_related(
        "comite"
    )
    return (
        Financement.objects.visible_to(user)
        .filter(financeur=attribuant, annee=annee, montant_vote__gt=0)
        .exclude(action__statut__in=NOT_FUNDED)
        .select_related("action__porteur", "action__convention")
        .prefetch_related(
            "versements",
            Prefetch("action__decisions_comite", queryset=programmed, to_attr="programmations"),
        )
        .order_by("action__porteur__nom", "action__titre", "pk")
    )


def _convention(action):
    try:
        return action.convention
    except ObjectDoesNotExist:
        return None


def _date_convention(action, convention) -> date | None:
    """The convention's signature (the later of both), else the committee's programming date,
    else the date of the decision recorded on an unsigned convention."""
    if convention and convention.date_signature:
        return convention.date_signature
    decisions = sorted(action.programmations, key=lambda d: d.comite.date)
    if decisions:
        return decisions[-1].comite.date
    return convention.date_decision if convention else None


def _payments(line: Financement, annee: int) -> tuple[str, str, bool]:
    """conditionsVersement, datesPeriodeVersement, and whether the year stood in for dates.

    One instalment is "unique", several "échelonné"; the date is the paid date, else the planned
    one. A unique payment with a known date gives that date; otherwise the period from the first
    to the last known date, or the grant's year when no date is known (the schema's period
    "when the precise date is unknown")."""
    versements = list(line.versements.all())
    conditions = ECHELONNE if len(versements) > 1 else UNIQUE
    dates = sorted(d for v in versements if (d := v.date_versement or v.date_prevue))
    if len(versements) == 1 and dates:
        return conditions, dates[0].isoformat(), False
    if dates:
        return conditions, f"{dates[0].isoformat()}/{dates[-1].isoformat()}", False
    return conditions, f"{annee}-01-01/{annee}-12-31", True


def _objet(titre: str) -> str:
    return titre if len(titre) <= OBJET_MAX else titre[: OBJET_MAX - 1] + "…"


def build(user, annee: int) -> Export:
    """The year's rows, in the schema's field order, and the warnings for the service."""
    attribuant = collectivite(annee)
    export = Export(annee=annee, attribuant=attribuant)
    for line in _lines(user, attribuant, annee):
        action = line.action
        porteur = action.porteur
        name = f"« {action.titre} » ({porteur.nom})"
        if not SIRET.match(porteur.siret):
            # idBeneficiaire is required and must be a SIRET (14 digits): a SIREN will not do.
            have = "un SIREN seul" if porteur.siret else "aucun SIRET"
            export.warnings.append(
                f"Non publiée : {name}, le porteur a {have} ; le schéma exige le SIRET à 14 "
                "chiffres du bénéficiaire. Complétez la fiche du porteur."
            )
            continue
        convention = _convention(action)
        date_convention = _date_convention(action, convention)
        if date_convention is None:
            export.warnings.append(
                f"Non publiée : {name}, ni convention signée ni décision datée (comité ou "
                "délibération) ; la date de convention est obligatoire."
            )
            continue
        conditions, periode, year_only = _payments(line, annee)
        if year_only:
            export.warnings.append(
                f"{name} : aucune date de versement connue, la période publiée est l'exercice "
                f"{annee}. Saisissez l'échéancier des versements."
            )
        export.rows.append(
            {
                "nomAttribuant": attribuant.nom,
                "idAttribuant": attribuant.siret,
                "dateConvention": date_convention.isoformat(),
                "referenceDecision": convention.reference_decision if convention else "",
                "nomBeneficiaire": porteur.nom,
                "idBeneficiaire": porteur.siret,
                "objet": _objet(action.titre),
                "montant": line.montant_vote,
                "nature": NATURE,
                "conditionsVersement": conditions,
                "datesPeriodeVersement": periode,
                "idRAE": "",
                "notificationUE": "non",
                "pourcentageSubvention": POURCENTAGE,
            }
        )
    return export


# ---------------------------------------------------------------- files


def _text(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}"  # a point as decimal sign, cents kept
    return "" if value is None else str(value)


def to_csv(export: Export) -> str:
    """UTF-8 text (no BOM: a file for machines), `;` separated, header = the schema's names."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(FIELDS)
    for row in export.rows:
        writer.writerow([_text(row[name]) for name in FIELDS])
    return buffer.getvalue()


def to_json(export: Export) -> str:
    """A list of objects, one per grant, keys in the schema's order; numbers as JSON numbers."""
    return json.dumps(
        [
            {
                name: float(value) if isinstance(value, Decimal) else value
                for name, value in ((name, row[name]) for name in FIELDS)
            }
            for row in export.rows
        ],
        ensure_ascii=False,
        indent=1,
    )
