from django.conf import settings
from django.core.management.base import BaseCommand

from reporting.rapports import purge


class Command(BaseCommand):
    help = (
        "Supprime les rapports (fiches et fichiers PDF) plus anciens que la durée de conservation."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--jours",
            type=int,
            default=None,
            help="Durée de conservation en jours (par défaut RAPPORTS_CONSERVATION_JOURS).",
        )

    def handle(self, *args, jours=None, **options):
        days = settings.RAPPORTS_CONSERVATION_JOURS if jours is None else jours
        count = purge(days=days)
        self.stdout.write(f"{count} rapport(s) de plus de {days} jours supprimé(s).")
