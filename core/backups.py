"""Backups an operator can restore: the database and the stored files in one dated archive.

`manage.py sauvegarder` writes `sauvegarde-pilotage-cvu-AAAAMMJJ-HHMMSS.tar.gz` holding
- `base.json`: every row, read in one snapshot (REPEATABLE READ on PostgreSQL), serialised by
  Django (`dumpdata`, natural keys for content types and permissions, which the restored instance
  recreates itself), so that a backup restores on another PostgreSQL version or on SQLite;
- `fichiers/…`: every file of the default storage (documents, pieces, reports, minutes, imports
  waiting for confirmation), read through the storage API;
- `manifeste.json`: date, the last migration of each app, row counts per model and each file's
  size and SHA-256, which `restaurer` checks after loading.

`manage.py restaurer ARCHIVE` restores into an empty instance only (no user yet): it applies the
migrations, empties what they created, loads the rows, writes the files and compares the counts
and checksums with the manifest. Sessions, login-attempt logs and Django's own content types are
not saved: after a restore everyone logs in again.
"""

import hashlib
import io
import json
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

FORMAT = 1
# Not saved: recreated by the instance (content types, permissions), or not worth restoring
# (sessions end with a restore; login-attempt logs are security traces of the old instance).
EXCLUDED = ["contenttypes", "auth.permission", "sessions", "axes", "admin.logentry"]
FILES_DIR = "fichiers/"


class BackupError(Exception):
    """A backup or a restore that cannot go on; the message says why, in French."""


@dataclass
class Verification:
    rows: dict[str, tuple[int, int]] = field(default_factory=dict)  # model: (expected, found)
    files_missing: list[str] = field(default_factory=list)
    files_altered: list[str] = field(default_factory=list)
    files_checked: int = 0

    @property
    def ok(self) -> bool:
        return (
            all(expected == found for expected, found in self.rows.values())
            and not self.files_missing
            and not self.files_altered
        )


def _saved_models():
    excluded_apps = {name for name in EXCLUDED if "." not in name}
    excluded_models = {name for name in EXCLUDED if "." in name}
    for model in apps.get_models():
        label = model._meta.label_lower
        if model._meta.app_label in excluded_apps or label in excluded_models:
            continue
        if model._meta.proxy or not model._meta.managed:
            continue
        yield label, model


def _walk(storage, directory: str = ""):
    """Every file name of the storage under directory, recursively."""
    try:
        subdirectories, files = storage.listdir(directory)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{directory}{name}"
    for sub in sorted(subdirectories):
        yield from _walk(storage, f"{directory}{sub}/")


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(timezone.now().timestamp())
    info.mode = 0o640
    archive.addfile(info, io.BytesIO(data))


def _migrations() -> dict[str, str]:
    latest = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        latest[app] = max(latest.get(app, ""), name)
    return dict(sorted(latest.items()))


def backup(directory: Path, *, storage=default_storage) -> Path:
    """Writes the archive into directory and returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    target = directory / f"sauvegarde-pilotage-cvu-{stamp}.tar.gz"
    with tempfile.TemporaryDirectory() as work:
        dump = Path(work) / "base.json"
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if connection.vendor == "postgresql" and outermost:
                # One snapshot for every table: rows that refer to each other stay consistent.
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            counts = {label: model._base_manager.count() for label, model in _saved_models()}
            call_command(
                "dumpdata",
                *[f"--exclude={name}" for name in EXCLUDED],
                natural_foreign=True,
                natural_primary=False,
                output=str(dump),
                verbosity=0,
            )
        files = {}
        partial = target.with_suffix(".partiel")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(dump, arcname="base.json")
            for name in _walk(storage):
                with storage.open(name, "rb") as source:
                    data = source.read()
                files[name] = {"taille": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                _add_bytes(archive, FILES_DIR + name, data)
            manifest = {
                "format": FORMAT,
                "application": "pilotage-cvu",
                "date": timezone.localtime().isoformat(timespec="seconds"),
                "base": connection.vendor,
                "migrations": _migrations(),
                "lignes": counts,
                "fichiers": files,
            }
            _add_bytes(
                archive,
                "manifeste.json",
                json.dumps(manifest, ensure_ascii=False, indent=1).encode(),
            )
        partial.rename(target)  # never a half-written archive under the final name
    return target


def _read_manifest(archive: tarfile.TarFile) -> dict:
    try:
        member = archive.getmember("manifeste.json")
    except KeyError:
        raise BackupError(
            "Ce fichier n'est pas une sauvegarde de Pilotage CVU (pas de manifeste)."
        ) from None
    manifest = json.loads(archive.extractfile(member).read())
    if manifest.get("application") != "pilotage-cvu" or manifest.get("format") != FORMAT:
        raise BackupError(
            "Ce fichier n'est pas une sauvegarde de Pilotage CVU dans un format connu."
        )
    return manifest


def instance_is_empty() -> bool:
    from django.contrib.auth import get_user_model

    try:
        return not get_user_model()._base_manager.exists()
    except Exception:  # noqa: BLE001 (no table yet: a new database)
        return True


def restore(path: Path, *, storage=default_storage) -> Verification:
    """Restores the archive into this empty instance and checks it against its manifest."""
    if not path.is_file():
        raise BackupError(f"Fichier introuvable : {path}.")
    if not instance_is_empty():
        raise BackupError(
            "Cette instance contient déjà des données (des comptes existent) : la restauration se "
            "fait dans une base vide, pour ne rien écraser. Créez une base neuve et relancez."
        )
    try:
        archive = tarfile.open(path, "r:gz")
    except (tarfile.TarError, OSError) as error:
        raise BackupError(f"Archive illisible : {error}.") from None
    with archive, tempfile.TemporaryDirectory() as work:
        manifest = _read_manifest(archive)
        newer = {
            app: name
            for app, name in manifest["migrations"].items()
            if name > _known_migration(app)
        }
        if newer:
            raise BackupError(
                "Cette sauvegarde vient d'une version plus récente de l'application (migrations "
                + ", ".join(f"{app} {name}" for app, name in sorted(newer.items()))
                + ") : mettez l'application à jour avant de restaurer."
            )
        archive.extract("base.json", work, filter="data")
        call_command("migrate", verbosity=0, interactive=False)
        # What the migrations wrote (reference data) is replaced by the saved rows.
        call_command("flush", verbosity=0, interactive=False)
        call_command("loaddata", str(Path(work) / "base.json"), verbosity=0)
        for member in archive.getmembers():
            if member.isfile() and member.name.startswith(FILES_DIR):
                name = member.name[len(FILES_DIR) :]
                if storage.exists(name):
                    storage.delete(name)
                storage.save(name, ContentFile(archive.extractfile(member).read()))
    return verify(manifest, storage=storage)


def _known_migration(app: str) -> str:
    from django.db.migrations.loader import MigrationLoader

    names = [name for label, name in MigrationLoader(None).disk_migrations if label == app]
    return max(names, default="")


def verify(manifest: dict, *, storage=default_storage) -> Verification:
    result = Verification()
    models = dict(_saved_models())
    for label, expected in manifest["lignes"].items():
        model = models.get(label)
        found = model._base_manager.count() if model is not None else 0
        result.rows[label] = (expected, found)
    for name, facts in manifest["fichiers"].items():
        result.files_checked += 1
        if not storage.exists(name):
            result.files_missing.append(name)
            continue
        with storage.open(name, "rb") as source:
            if hashlib.sha256(source.read()).hexdigest() != facts["sha256"]:
                result.files_altered.append(name)
    return result
