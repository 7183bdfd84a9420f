"""Uploaded files waiting for confirmation: private temporary files, never the session.

Every import keeps the uploaded file between its preview and its confirmation in the "imports"
storage (config/settings.py: under MEDIA_ROOT, owner-only, or in the object storage shared by
every host), served by no URL, named by its owner (a council, a user) and a random token that only
the uploader's session knows. A file is deleted on confirmation or cancellation, and by the hourly
purge once IMPORT_APERCU_MINUTES have passed. The session holds the reference returned by `store`
(kind, owner, token, extension): no content, no file name.
"""

import re
import secrets
from datetime import timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.utils import timezone

EXTENSIONS = {".xlsx", ".csv"}
_NAME = re.compile(r"^(?P<owner>\d+)-(?P<token>[A-Za-z0-9_-]{32,64})(?P<ext>\.xlsx|\.csv)$")
_KIND = re.compile(r"^[a-z]{1,20}$")
ROOT = "imports-apercus"


def storage():
    return storages["imports"]


def _expired_before():
    return timezone.now() - timedelta(minutes=settings.IMPORT_APERCU_MINUTES)


class PreviewStore:
    """The kept uploads of one import; `kind` '' is the root directory (members, historically)."""

    def __init__(self, kind: str, *, owner_key: str):
        assert kind == "" or _KIND.match(kind)
        self.kind = kind
        self.owner_key = owner_key

    def directory(self) -> str:
        return f"{ROOT}/{self.kind}/" if self.kind else f"{ROOT}/"

    def _name(self, owner, token: str, ext: str) -> str | None:
        name = f"{owner}-{token}{ext}"
        return self.directory() + name if _NAME.match(name) else None

    def names(self) -> list[str]:
        """The storage names of the kept files."""
        try:
            _, files = storage().listdir(self.directory())
        except FileNotFoundError:
            return []
        return [self.directory() + name for name in sorted(files) if _NAME.match(name)]

    def store(self, *, owner: int, content: bytes, filename: str) -> dict:
        """Writes the file and returns what the session may keep."""
        ext = PurePosixPath(filename).suffix.lower()
        if ext not in EXTENSIONS:
            ext = ".csv"
        token = secrets.token_urlsafe(32)
        name = self._name(int(owner), token, ext)
        saved = storage().save(name, ContentFile(content))
        assert saved == name, "un nom d'aperçu aléatoire ne peut pas être déjà pris"
        return {self.owner_key: int(owner), "token": token, "ext": ext}

    def load(self, ref: dict | None, *, owner: int) -> tuple[bytes, str] | None:
        """The stored content and a filename to parse it by, or None if absent or expired."""
        if not isinstance(ref, dict) or ref.get(self.owner_key) != owner:
            return None
        name = self._name(owner, str(ref.get("token", "")), str(ref.get("ext", "")))
        if name is None or not storage().exists(name):
            return None
        if storage().get_modified_time(name) < _expired_before():
            storage().delete(name)
            return None
        with storage().open(name, "rb") as source:
            return source.read(), f"apercu{ref['ext']}"

    def discard(self, ref: dict | None) -> None:
        if isinstance(ref, dict):
            name = self._name(
                ref.get(self.owner_key, 0), str(ref.get("token", "")), str(ref.get("ext", ""))
            )
            if name is not None:
                storage().delete(name)

    def purge(self, *, owner: int | None = None, expired_only: bool = True) -> int:
        """Deletes kept files (expired ones, or all of an owner's); returns how many."""
        limit = _expired_before()
        count = 0
        for name in self.names():
            match = _NAME.match(PurePosixPath(name).name)
            if owner is not None and int(match["owner"]) != owner:
                continue
            if expired_only and storage().get_modified_time(name) >= limit:
                continue
            storage().delete(name)
            count += 1
        return count


ACTIONS = PreviewStore("actions", owner_key="user")
DAUPHIN = PreviewStore("dauphin", owner_key="user")
MEMBRES = PreviewStore("", owner_key="conseil")
STORES = (MEMBRES, ACTIONS, DAUPHIN)


def purge_expired() -> int:
    """Deletes every import's expired uploads (the hourly beat task)."""
    return sum(store.purge() for store in STORES)
