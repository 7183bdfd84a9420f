import factory

from quartiers.models import Commune, Indicateur, Observation, Qpv, Secteur, ValeurIndicateur
from tests.comptes.factories import UserFactory


class SecteurFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Secteur

    nom = factory.Sequence(lambda n: f"Secteur {n}")
    chef_projet = factory.SubFactory(UserFactory)


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commune
        django_get_or_create = ["code_insee"]

    code_insee = factory.Sequence(lambda n: f"{90000 + n:05d}")
    nom = factory.Sequence(lambda n: f"Commune {n}")
    population = 1000
    population_annee = 2023


class QpvFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Qpv
        skip_postgeneration_save = True

    geographie = Qpv.Geographie.G2024
    nom = factory.Sequence(lambda n: f"Quartier {n}")

    @factory.post_generation
    def communes(self, create, extracted, **kwargs):
        if not create:
            return
        self.communes.set(extracted if extracted is not None else [CommuneFactory()])


class IndicateurFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicateur
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"indicateur-{n}")
    libelle = factory.Sequence(lambda n: f"Indicateur {n}")
    unite = "%"


class ValeurIndicateurFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ValeurIndicateur

    indicateur = factory.SubFactory(IndicateurFactory)
    qpv = factory.SubFactory(QpvFactory)
    annee = factory.Sequence(lambda n: 2000 + n % 50)
    valeur = 42
    source = "INSEE"


class ObservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Observation

    qpv = factory.SubFactory(QpvFactory)
    date = factory.Faker("date_this_decade")
    titre = factory.Sequence(lambda n: f"Observation {n}")
    texte = "Les partenaires signalent une évolution."
    auteur = factory.SubFactory(UserFactory)
