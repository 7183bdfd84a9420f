from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from comptes.demo import demo_users
from quartiers.demo import demo_territoire
from quartiers.models import Commune, Qpv


class Command(BaseCommand):
    help = (
        "Crée le jeu de démonstration (fictif) sur le territoire réel : comptes, secteurs, "
        "valeurs d'indicateurs et observations. Peut être relancée sans doublon."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", default="demo", help="Mot de passe des comptes de démonstration."
        )

    def handle(self, *args, password: str, **options):
        if not Commune.objects.exists() or not Qpv.objects.exists():
            raise CommandError(
                "Le territoire n'est pas chargé : lancez d'abord python manage.py load_territoire."
            )
        with transaction.atomic():
            users = demo_users(password=password)
            demo_territoire(users=users)
        self.stdout.write(
            self.style.SUCCESS(
                "Jeu de démonstration prêt. Comptes : service@demo.local, cdp1@demo.local … "
                "cdp6@demo.local, direction@demo.local, admin@demo.local."
            )
        )
