"""Writes a dated backup of the database and the stored files (core.backups)."""

from pathlib import Path

from django.core.management.base import BaseCommand

from core.backups import backup


class Command(BaseCommand):
    help = "Sauvegarde la base et les fichiers déposés dans une archive datée (.tar.gz)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dossier",
            default="sauvegardes",
            help="Dossier où écrire l'archive (créé s'il manque ; par défaut ./sauvegardes).",
        )

    def handle(self, *args, dossier: str, **options):
        path = backup(Path(dossier))
        size = path.stat().st_size / 1_000_000
        self.stdout.write(self.style.SUCCESS(f"Sauvegarde écrite : {path} ({size:.1f} Mo)."))
