"""Column mappings remembered per user and file layout, for every import's mapping step.

A layout is the list of a file's headers (normalised); a mapping is stored as target -> header so
that it still applies when the same columns come in another order."""

import hashlib

from .imports import normalise
from .models import CorrespondanceColonnes


def layout(headers: list[str]) -> str:
    return hashlib.sha256("\x1f".join(normalise(h) for h in headers).encode()).hexdigest()


def remember(user, kind: str, headers: list[str], columns: dict[str, int], values=None) -> None:
    """Keeps how the user read this layout: `columns` maps a target to a column index."""
    CorrespondanceColonnes.objects.update_or_create(
        utilisateur=user,
        import_type=kind,
        disposition=layout(headers),
        defaults={
            "colonnes": {
                target: normalise(headers[index])
                for target, index in columns.items()
                if index is not None and index < len(headers)
            },
            "valeurs": values or {},
        },
    )


def recall(user, kind: str, headers: list[str]) -> tuple[dict[str, int], dict] | None:
    """(target -> column index, values) as the user left them for this layout, or None."""
    found = CorrespondanceColonnes.objects.filter(
        utilisateur=user, import_type=kind, disposition=layout(headers)
    ).first()
    if found is None:
        return None
    positions = {normalise(header): index for index, header in enumerate(headers)}
    columns = {
        target: positions[header]
        for target, header in found.colonnes.items()
        if header in positions
    }
    return columns, found.valeurs
