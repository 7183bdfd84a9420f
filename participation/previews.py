"""Uploaded member files waiting for confirmation: the members' store of `core.previews`.

A preview holds inhabitants' names and e-mails. It is written in the private "imports"
storage (served by no URL), named by the council and a random token that only the uploader's session knows,
and deleted on confirmation, on the council's next erasure, or by the hourly purge once
IMPORT_APERCU_MINUTES have passed.
"""

from core import previews
from core.previews import EXTENSIONS  # noqa: F401

_STORE = previews.MEMBRES


def names() -> list[str]:
    """The storage names of the kept member files."""
    return _STORE.names()


def store(*, conseil_pk: int, content: bytes, filename: str) -> dict:
    """Writes the file (owner-only) and returns what the session may keep: no content, no name."""
    return _STORE.store(owner=conseil_pk, content=content, filename=filename)


def load(ref: dict | None, *, conseil_pk: int) -> tuple[bytes, str] | None:
    """The stored content and a filename to parse it by, or None if absent or expired."""
    return _STORE.load(ref, owner=conseil_pk)


def discard(ref: dict | None) -> None:
    _STORE.discard(ref)


def purge(*, conseil_pk: int | None = None, expired_only: bool = True) -> int:
    """Deletes previews (expired ones, or all of a council's); returns how many.

    Without a council, the expired uploads of every import (actions, Dauphin) go too."""
    if conseil_pk is None and expired_only:
        return previews.purge_expired()
    return _STORE.purge(owner=conseil_pk, expired_only=expired_only)
