"""Factories for governance: instance types, instances, meetings, attendance, decisions."""

import datetime
from datetime import timedelta

import factory
from django.utils import timezone

from cvu.models import Decision, Instance, Presence, Reunion, SuiteADonner, TypeInstance
from tests.comptes.factories import UserFactory
from tests.cvu.factories import ContactFactory


class TypeInstanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TypeInstance
        django_get_or_create = ["nom"]

    nom = factory.Sequence(lambda n: f"Type d'instance {n}")


class InstanceFactory(factory.django.DjangoModelFactory):
    """An intercommunal instance by default; `communes=[...]` sets its communes."""

    class Meta:
        model = Instance
        skip_postgeneration_save = True

    nom = factory.Sequence(lambda n: f"Instance {n}")
    type = factory.SubFactory(TypeInstanceFactory)
    echelle = Instance.Echelle.INTERCOMMUNALE

    class Params:
        communale = factory.Trait(echelle=Instance.Echelle.COMMUNALE)

    @factory.post_generation
    def communes(self, create, extracted, **kwargs):
        if create and extracted:
            self.communes.set(extracted)


class ReunionFactory(factory.django.DjangoModelFactory):
    """A planned two-hour meeting a week from now, at 14:00 Paris time."""

    class Meta:
        model = Reunion

    instance = factory.SubFactory(InstanceFactory)
    debut = factory.LazyFunction(
        lambda: timezone.make_aware(
            datetime.datetime.combine(
                timezone.localdate() + timedelta(days=7), datetime.time(14, 0)
            )
        )
    )
    fin = factory.LazyAttribute(lambda o: o.debut + timedelta(hours=2))

    class Params:
        annulee = factory.Trait(statut=Reunion.Statut.ANNULEE)
        tenue = factory.Trait(statut=Reunion.Statut.TENUE)


class PresenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Presence

    reunion = factory.SubFactory(ReunionFactory)
    contact = factory.SubFactory(ContactFactory)
    statut = Presence.Statut.PRESENT


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Decision

    reunion = factory.SubFactory(ReunionFactory)
    texte = factory.Sequence(lambda n: f"Décision {n}")


class SuiteADonnerFactory(factory.django.DjangoModelFactory):
    """A follow-up owned by an agent, due in two weeks."""

    class Meta:
        model = SuiteADonner

    reunion = factory.SubFactory(ReunionFactory)
    quoi = factory.Sequence(lambda n: f"Suite {n}")
    responsable = factory.SubFactory(UserFactory)
    echeance = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=14))
