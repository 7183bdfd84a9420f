"""Uploaded member files waiting for confirmation: private temporary files, never the session.

A preview holds inhabitants' names and e-mails. It is written under MEDIA_ROOT (served by
no URL), named by the council and a random token that only the uploader's session knows,
and deleted on confirmation, on the council's next erasure, or by the hourly purge once
IMPORT_APERCU_MINUTES have passed.
"""

import os
import re
import secrets
import time
from pathlib import Path

from django.conf import settings

EXTENSIONS = {".xlsx", ".csv"}
_NAME = re.compile(r"^(?P<conseil>\d+)-(?P<token>[A-Za-z0-9_-]{32,64})(?P<ext>\.xlsx|\.csv)$")


def directory() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports-apercus"


def _ttl_seconds() -> int:
    return settings.IMPORT_APERCU_MINUTES * 60


def _path(conseil_pk: int, token: str, ext: str) -> Path | None:
    name = f"{conseil_pk}-{token}{ext}"
    return directory() / name if _NAME.match(name) else None


def store(*, conseil_pk: int, content: bytes, filename: str) -> dict:
    """Writes the file (owner-only) and returns what the session may keep: no content, no name."""
    ext = Path(filename).suffix.lower()
    if ext not in EXTENSIONS:
        ext = ".csv"
    token = secrets.token_urlsafe(32)
    directory().mkdir(parents=True, exist_ok=True)
    path = _path(conseil_pk, token, ext)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return {"conseil": conseil_pk, "token": token, "ext": ext}


def load(ref: dict | None, *, conseil_pk: int) -> tuple[bytes, str] | None:
    """The stored content and a filename to parse it by, or None if absent or expired."""
    if not ref or ref.get("conseil") != conseil_pk:
        return None
    path = _path(conseil_pk, str(ref.get("token", "")), str(ref.get("ext", "")))
    if path is None or not path.is_file():
        return None
    if time.time() - path.stat().st_mtime > _ttl_seconds():
        path.unlink(missing_ok=True)
        return None
    return path.read_bytes(), f"apercu{ref['ext']}"


def discard(ref: dict | None) -> None:
    if ref:
        path = _path(ref.get("conseil", 0), str(ref.get("token", "")), str(ref.get("ext", "")))
        if path is not None:
            path.unlink(missing_ok=True)


def purge(*, conseil_pk: int | None = None, expired_only: bool = True) -> int:
    """Deletes previews (expired ones, or all of a council's); returns how many."""
    if not directory().is_dir():
        return 0
    limit = time.time() - _ttl_seconds()
    count = 0
    for path in directory().iterdir():
        match = _NAME.match(path.name)
        if match is None or not path.is_file():
            continue
        if conseil_pk is not None and int(match["conseil"]) != conseil_pk:
            continue
        if expired_only and path.stat().st_mtime > limit:
            continue
        path.unlink(missing_ok=True)
        count += 1
    return count
