from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from quartiers.services import DATA_DIR, TerritoireFileError, territoire_load


class Command(BaseCommand):
    help = "Charge les communes de PMA, les QPV (2015 et 2024) et les indicateurs du diagnostic."

    def add_arguments(self, parser):
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=DATA_DIR,
            help="Dossier des fichiers communes_pma.csv, qpv_pma.csv et indicateurs.csv.",
        )

    def handle(self, *args, data_dir: Path, **options):
        try:
            report = territoire_load(data_dir=data_dir)
        except TerritoireFileError as error:
            raise CommandError(f"Rien n'a été chargé. {error}") from None
        if not report.changed:
            self.stdout.write("Territoire déjà à jour : rien n'a changé.")
            return
        for label, counts in (("créés", report.created), ("mis à jour", report.updated)):
            if counts:
                details = ", ".join(f"{kind} : {n}" for kind, n in sorted(counts.items()))
                self.stdout.write(self.style.SUCCESS(f"{label.capitalize()} — {details}"))
