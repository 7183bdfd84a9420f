"""Restores a backup into an empty instance and checks it (core.backups)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.backups import BackupError, restore


class Command(BaseCommand):
    help = "Restaure une sauvegarde (.tar.gz) dans une instance vide, puis la vérifie."

    def add_arguments(self, parser):
        parser.add_argument("archive", help="Archive écrite par « manage.py sauvegarder ».")

    def handle(self, *args, archive: str, **options):
        try:
            result = restore(Path(archive))
        except BackupError as error:
            raise CommandError(str(error)) from None
        rows = sum(found for _, found in result.rows.values())
        if not result.ok:
            wrong = [
                f"{label} : {found} lignes au lieu de {expected}"
                for label, (expected, found) in result.rows.items()
                if expected != found
            ]
            problems = wrong + [f"fichier absent : {name}" for name in result.files_missing]
            problems += [f"fichier altéré : {name}" for name in result.files_altered]
            raise CommandError("Restauration incomplète :\n  " + "\n  ".join(problems))
        self.stdout.write(
            self.style.SUCCESS(
                f"Restauration vérifiée : {rows} lignes et {result.files_checked} fichiers "
                "conformes à la sauvegarde."
            )
        )
