"""Uploaded files waiting for confirmation: private temporary files, never the session.

Every import keeps the uploaded file between its preview and its confirmation here, under
MEDIA_ROOT (served by no URL), owner-only, named by its owner (a council, a user) and a random
token that only the uploader's session knows. A file is deleted on confirmation or cancellation,
and by the hourly purge once IMPORT_APERCU_MINUTES have passed. The session holds the reference
returned by `store` (kind, owner, token, extension): no content, no file name.
"""

import os
import re
import secrets
import time
from pathlib import Path

from django.conf import settings

EXTENSIONS = {".xlsx", ".csv"}
_NAME = re.compile(r"^(?P<owner>\d+)-(?P<token>[A-Za-z0-9_-]{32,64})(?P<ext>\.xlsx|\.csv)$")
_KIND = re.compile(r"^[a-z]{1,20}$")


def root() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports-apercus"


def _ttl_seconds() -> int:
    return settings.IMPORT_APERCU_MINUTES * 60


class PreviewStore:
    """The kept uploads of one import; `kind` '' is the root directory (members, historically)."""

    def __init__(self, kind: str, *, owner_key: str):
        assert kind == "" or _KIND.match(kind)
        self.kind = kind
        self.owner_key = owner_key

    def directory(self) -> Path:
        return root() / self.kind if self.kind else root()

    def _path(self, owner, token: str, ext: str) -> Path | None:
        name = f"{owner}-{token}{ext}"
        return self.directory() / name if _NAME.match(name) else None

    def store(self, *, owner: int, content: bytes, filename: str) -> dict:
        """Writes the file (owner-only) and returns what the session may keep."""
        ext = Path(filename).suffix.lower()
        if ext not in EXTENSIONS:
            ext = ".csv"
        token = secrets.token_urlsafe(32)
        self.directory().mkdir(parents=True, exist_ok=True)
        path = self._path(int(owner), token, ext)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        return {self.owner_key: int(owner), "token": token, "ext": ext}

    def load(self, ref: dict | None, *, owner: int) -> tuple[bytes, str] | None:
        """The stored content and a filename to parse it by, or None if absent or expired."""
        if not isinstance(ref, dict) or ref.get(self.owner_key) != owner:
            return None
        path = self._path(owner, str(ref.get("token", "")), str(ref.get("ext", "")))
        if path is None or not path.is_file():
            return None
        if time.time() - path.stat().st_mtime > _ttl_seconds():
            path.unlink(missing_ok=True)
            return None
        return path.read_bytes(), f"apercu{ref['ext']}"

    def discard(self, ref: dict | None) -> None:
        if isinstance(ref, dict):
            path = self._path(
                ref.get(self.owner_key, 0), str(ref.get("token", "")), str(ref.get("ext", ""))
            )
            if path is not None:
                path.unlink(missing_ok=True)

    def purge(self, *, owner: int | None = None, expired_only: bool = True) -> int:
        """Deletes kept files (expired ones, or all of an owner's); returns how many."""
        if not self.directory().is_dir():
            return 0
        limit = time.time() - _ttl_seconds()
        count = 0
        for path in self.directory().iterdir():
            match = _NAME.match(path.name)
            if match is None or not path.is_file():
                continue
            if owner is not None and int(match["owner"]) != owner:
                continue
            if expired_only and path.stat().st_mtime > limit:
                continue
            path.unlink(missing_ok=True)
            count += 1
        return count


ACTIONS = PreviewStore("actions", owner_key="user")
DAUPHIN = PreviewStore("dauphin", owner_key="user")
MEMBRES = PreviewStore("", owner_key="conseil")
STORES = (MEMBRES, ACTIONS, DAUPHIN)


def purge_expired() -> int:
    """Deletes every import's expired uploads (the hourly beat task)."""
    return sum(store.purge() for store in STORES)
