"""Factories and helpers for the call-for-projects tests."""

import io
from datetime import date
from decimal import Decimal

import factory
from openpyxl import Workbook

from cvu.models import AppelAProjets, Comite, Enveloppe
from tests.cvu.factories import ContratFactory, OrganisationFactory


def siret(prefix: str) -> str:
    """A SIRET with a valid Luhn key, from 13 leading digits."""
    digits = (prefix + "0" * 13)[:13]
    for last in "0123456789":
        candidate = digits + last
        total = 0
        for position, char in enumerate(reversed(candidate)):
            value = int(char) * (2 if position % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


# The SIRET of the two porteurs the Dauphin files name (fixture `porteurs`).
SIRET_CS = siret("4242424242424")
SIRET_ASSO = siret("5151515151515")


class AppelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AppelAProjets
        skip_postgeneration_save = True

    contrat = factory.SubFactory(ContratFactory)
    annee = 2026
    nom = factory.LazyAttribute(lambda o: f"Appel à projets {o.annee}")
    date_ouverture = date(2025, 10, 1)
    date_cloture = date(2025, 11, 30)
    statut = AppelAProjets.Statut.CLOS


class EnveloppeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enveloppe

    appel = factory.SubFactory(AppelFactory)
    financeur = factory.SubFactory(OrganisationFactory, type="etat")
    montant = Decimal("100000.00")


class ComiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comite

    appel = factory.SubFactory(AppelFactory)
    date = date(2026, 3, 15)


def table(rows: list[list], *, fmt: str = "xlsx") -> bytes:
    """A file as Dauphin exports it: the first row holds the headers."""
    if fmt == "csv":
        lines = [";".join("" if cell is None else str(cell) for cell in row) for row in rows]
        return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
