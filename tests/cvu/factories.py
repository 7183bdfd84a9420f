from decimal import Decimal

import factory

from cvu.models import (
    Action,
    Contact,
    ContratDeVille,
    Financement,
    IndicateurAction,
    NoeudStrategie,
    Organisation,
    ProgrammeActions,
    Tag,
)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    nom = factory.Sequence(lambda n: f"Association {n}")
    type = Organisation.Type.ASSOCIATION

    class Params:
        financeur_etat = factory.Trait(nom="Préfecture du Doubs – BOP 147", type="etat")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organisation = factory.SubFactory(OrganisationFactory)
    nom = factory.Faker("last_name", locale="fr_FR")
    prenom = factory.Faker("first_name", locale="fr_FR")


class ContratFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContratDeVille

    nom = "Engagements Quartiers 2030"
    annee_debut = 2024
    annee_fin = 2030
    libelle_axe = "priorité"


class NoeudFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NoeudStrategie

    contrat = factory.SubFactory(ContratFactory)
    niveau = NoeudStrategie.Niveau.AXE
    code = factory.Sequence(lambda n: str(n))
    libelle = factory.Sequence(lambda n: f"Axe {n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ["nom"]

    nom = factory.Sequence(lambda n: f"Thématique {n}")


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgrammeActions

    contrat = factory.SubFactory(ContratFactory)
    nom = factory.Sequence(lambda n: f"Programme {n}")
    annee_debut = 2026


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action
        skip_postgeneration_save = True

    contrat = factory.SubFactory(ContratFactory)
    titre = factory.Sequence(lambda n: f"Action {n}")
    porteur = factory.SubFactory(OrganisationFactory)
    annee = 2026
    cout_total = Decimal("10000.00")

    @factory.post_generation
    def qpvs(self, create, extracted, **kwargs):
        if create and extracted:
            self.qpvs.set(extracted)


class FinancementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Financement

    action = factory.SubFactory(ActionFactory)
    financeur = factory.SubFactory(OrganisationFactory, type="etat")
    annee = 2026
    montant_demande = Decimal("5000.00")


class IndicateurActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IndicateurAction

    action = factory.SubFactory(ActionFactory)
    libelle = "Nombre de participants"
    cible = 100
