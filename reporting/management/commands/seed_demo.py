from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from comptes.demo import demo_users
from cvu.demo import (
    demo_appels,
    demo_contrat,
    demo_dispositifs_structures,
    demo_gouvernance,
    demo_propositions,
)
from cvu.demo_porteurs import demo_porteurs
from participation.demo import demo_participation
from quartiers.demo import demo_territoire
from quartiers.models import Commune, Qpv
from reporting.demo import demo_rapport_annuel


class Command(BaseCommand):
    help = (
        "Crée le jeu de démonstration (fictif) sur le territoire réel : comptes, secteurs, "
        "valeurs d'indicateurs et observations. Peut être relancée sans doublon."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", default="demo", help="Mot de passe des comptes de démonstration."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Accepter de créer les comptes de démonstration alors que DEBUG est désactivé.",
        )

    def handle(self, *args, password: str, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG est désactivé : cette base ressemble à une base de production. Les comptes "
                "de démonstration (dont un administrateur) n'y sont créés qu'avec --force."
            )
        if not Commune.objects.exists() or not Qpv.objects.exists():
            raise CommandError(
                "Le territoire n'est pas chargé : lancez d'abord python manage.py load_territoire."
            )
        with transaction.atomic():
            users = demo_users(password=password)
            demo_territoire(users=users)
            demo_contrat(users=users)
            demo_appels(users=users)
            demo_porteurs(users=users)
            demo_gouvernance(users=users)
            demo_propositions(users=users)
            demo_dispositifs_structures()
            demo_participation(users=users)
            demo_rapport_annuel(users=users)
        self.stdout.write(
            self.style.SUCCESS(
                "Jeu de démonstration prêt. Comptes : service@demo.local, cdp1@demo.local … "
                "cdp6@demo.local, direction@demo.local, admin@demo.local."
            )
        )
