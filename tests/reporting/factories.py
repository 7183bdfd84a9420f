from datetime import timedelta

import factory
from django.utils import timezone

from reporting.models import Rapport
from tests.comptes.factories import UserFactory


class RapportFactory(factory.django.DjangoModelFactory):
    """A report request; traits give a failed or an interrupted build (no file)."""

    class Meta:
        model = Rapport

    type = Rapport.Type.PARTICIPATION
    titre = factory.Sequence(lambda n: f"Rapport {n}")
    demande_par = factory.SubFactory(UserFactory)

    class Params:
        echec = factory.Trait(
            statut=Rapport.Statut.ECHEC,
            erreur="Le rapport n'a pas pu être produit (OSError : disque plein).",
            started_at=factory.LazyFunction(timezone.now),
            finished_at=factory.LazyFunction(timezone.now),
        )
        interrompu = factory.Trait(
            statut=Rapport.Statut.EN_COURS,
            started_at=factory.LazyFunction(lambda: timezone.now() - timedelta(hours=2)),
        )
