"""The porteur's administrative pieces, their validity and what a dossier still lacks.

Which pieces an organisation owes depends on its type (`required_types`, the one place of that
rule); each required type's state is that of its latest piece: valid, expired on a date, or
missing. `problems_for` answers for many porteurs at once (the committee's rows) in one query.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from . import rights
from .models import Organisation, PieceOrganisation

T = PieceOrganisation.Type
OT = Organisation.Type

# Bodies of public law: their statutes and accounts are public, only the bank details are asked.
PUBLIC_BODIES = frozenset(
    {
        OT.ETAT,
        OT.COMMUNE,
        OT.EPCI,
        OT.DEPARTEMENT,
        OT.REGION,
        OT.CAF,
        OT.ETABLISSEMENT_PUBLIC,
        OT.FRANCE_TRAVAIL,
    }
)
# An association asking for a public subsidy also signs the contrat d'engagement républicain
# (loi n° 2021-1109 du 24 août 2021, décret n° 2021-1947 du 31 décembre 2021).
ASSOCIATION_PIECES = (T.STATUTS, T.RIB, T.COMPTES, T.DIRIGEANTS, T.CER)
PRIVATE_BODY_PIECES = (T.STATUTS, T.RIB, T.COMPTES)
PUBLIC_BODY_PIECES = (T.RIB,)

# Short names for badges, with the ending their past participle takes ("CER expiré",
# "liste des dirigeants manquante", "statuts expirés").
SHORT = {
    T.STATUTS: ("Statuts", "s"),
    T.RIB: ("RIB", ""),
    T.COMPTES: ("Comptes N-1", "s"),
    T.DIRIGEANTS: ("Liste des dirigeants", "e"),
    T.CER: ("CER", ""),
    T.AUTRE: ("Autre pièce", "e"),
}

VALID, EXPIRED, MISSING = "valide", "expiree", "manquante"


def required_types(organisation_type: str) -> tuple[str, ...]:
    """The pieces an organisation of this type must hold to be funded."""
    if organisation_type == OT.ASSOCIATION:
        return ASSOCIATION_PIECES
    if organisation_type in PUBLIC_BODIES:
        return PUBLIC_BODY_PIECES
    return PRIVATE_BODY_PIECES  # bailleur social, autre: a private body


def default_expiry(type: str, date_piece: date) -> date | None:
    """The end of validity given to a piece when none is typed (said in the form's help)."""
    if type == T.COMPTES:
        # The accounts of year N (dated on their closing) serve until the next ones are due.
        return date(date_piece.year + 1, 12, 31)
    if type == T.DIRIGEANTS:
        try:
            return date_piece.replace(year=date_piece.year + 1) - timedelta(days=1)
        except ValueError:  # 29 February
            return date(date_piece.year + 1, 2, 28)
    if type == T.CER:
        # Signed with the year's request: valid for the subsidies of that year.
        return date(date_piece.year, 12, 31)
    return None  # statuts, RIB, other pieces: valid until replaced


@dataclass(frozen=True)
class PieceStatus:
    """The state of one required type for an organisation on a day."""

    type: str
    piece: PieceOrganisation | None
    state: str
    expired_on: date | None = None

    @property
    def label(self) -> str:
        return T(self.type).label

    @property
    def ok(self) -> bool:
        return self.state == VALID

    @property
    def text(self) -> str:
        """ "valide", "expirée le 31/12/2025" or "manquante" (of the piece)."""
        if self.state == EXPIRED:
            return f"expirée le {self.expired_on:%d/%m/%Y}"
        return self.state

    @property
    def problem(self) -> str:
        """A badge's text: "CER expiré le 31/12/2025", "RIB manquant"; empty when valid."""
        name, ending = SHORT[self.type]
        if self.state == EXPIRED:
            return f"{name} expiré{ending} le {self.expired_on:%d/%m/%Y}"
        if self.state == MISSING:
            return f"{name} manquant{ending}"
        return ""


def _state(type: str, latest: tuple | None, day: date) -> PieceStatus:
    """latest: (piece or None, date_expiration) of the type's most recent piece."""
    if latest is None:
        return PieceStatus(type, None, MISSING)
    piece, expiry = latest
    if expiry is not None and expiry < day:
        return PieceStatus(type, piece, EXPIRED, expiry)
    return PieceStatus(type, piece, VALID)


def _latest_by_type(pieces) -> dict:
    """The most recent piece of each type (by its date, then the last deposited)."""
    latest = {}
    for piece in sorted(pieces, key=lambda p: (p.date_piece, p.pk)):
        latest[piece.type] = piece
    return latest


def status(organisation: Organisation, day: date | None = None) -> list[PieceStatus]:
    """For each type the organisation owes: its latest piece and state on `day` (today)."""
    return _statuses(organisation.type, organisation.pieces.all(), day or timezone.localdate())


def _statuses(organisation_type: str, pieces, day: date) -> list[PieceStatus]:
    latest = _latest_by_type(pieces)
    return [
        _state(t, (latest[t], latest[t].date_expiration) if t in latest else None, day)
        for t in required_types(organisation_type)
    ]


def problems_for(porteur_ids, day: date | None = None) -> dict[int, list[str]]:
    """Per porteur id, the missing or expired pieces' labels (empty list when complete).

    One query: the porteurs' types joined with their pieces' dates."""
    day = day or timezone.localdate()
    rows = Organisation.objects.filter(pk__in=list(porteur_ids)).values_list(
        "pk", "type", "pieces__pk", "pieces__type", "pieces__date_piece", "pieces__date_expiration"
    )
    types: dict[int, str] = {}
    latest: dict[int, dict[str, tuple]] = {}
    for pk, org_type, piece_pk, piece_type, date_piece, expiry in rows:
        types[pk] = org_type
        known = latest.setdefault(pk, {})
        if piece_pk is None:
            continue
        key = (date_piece, piece_pk)
        if piece_type not in known or key > known[piece_type][0]:
            known[piece_type] = (key, expiry)
    problems = {}
    for pk, org_type in types.items():
        statuses = [
            _state(t, (None, latest[pk][t][1]) if t in latest[pk] else None, day)
            for t in required_types(org_type)
        ]
        problems[pk] = [s.problem for s in statuses if not s.ok]
    return problems


# ---------------------------------------------------------------- writes


@transaction.atomic
def piece_add(
    *,
    organisation: Organisation,
    upload,
    user,
    content_type: str,
    type: str,
    date_piece: date,
    date_expiration: date | None = None,
) -> PieceOrganisation:
    """Stores a checked upload (cvu.services.check_upload) as a piece of the organisation."""
    rights.require_change(user, organisation)
    piece = PieceOrganisation(
        organisation=organisation,
        type=type,
        nom=upload.name[:200],
        content_type=content_type,
        taille=upload.size,
        date_piece=date_piece,
        date_expiration=date_expiration or default_expiry(type, date_piece),
        uploaded_by=user,
    )
    piece.full_clean(exclude=["fichier"])
    piece.fichier.save(upload.name, upload, save=False)
    piece.save()
    return piece


def piece_delete(*, piece: PieceOrganisation, user) -> None:
    rights.require_change(user, piece)
    piece.fichier.delete(save=False)
    piece.delete()


# ---------------------------------------------------------------- page sections


def organisation_section(user, organisation) -> dict:
    """What the porteur page shows of this part (context for its include)."""
    from .forms_pieces import PieceForm

    pieces = list(organisation.pieces.select_related("uploaded_by"))
    can_edit = rights.may_change(user, organisation)
    return {
        "pieces_status": _statuses(organisation.type, pieces, timezone.localdate()),
        "pieces_all": pieces,
        "pieces_can_edit": can_edit,
        "pieces_form": PieceForm() if can_edit else None,
    }


def action_section(user, action) -> dict:
    """What the dossier page shows of this part: the porteur's missing or expired pieces."""
    return {"pieces_problems": problems_for([action.porteur_id]).get(action.porteur_id, [])}
