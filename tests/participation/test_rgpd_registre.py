"""The register of processing (docs/registre-traitements.md) cannot drift from the models."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

REGISTRE = Path(settings.BASE_DIR) / "docs" / "registre-traitements.md"

# Section of the register -> models whose every field it lists.
SECTIONS = {
    "1. Membres des instances de participation (habitants)": [
        "participation.Membre",
        "participation.PresenceMembre",
        "participation.Inscription",
        "participation.Evaluation",
    ],
    "2. Journal des accès aux données des membres": ["participation.AccesDonnees"],
    "3. Comptes des agents": ["comptes.User"],
    "4. Contacts des organisations partenaires": ["cvu.Contact"],
}
# Fields that are no data about the person: secrets and Django's permission machinery.
TECHNICAL = {
    "comptes.User": {
        "password",
        "is_superuser",
        "is_staff",
        "groups",
        "user_permissions",
        "ics_token",
    }
}
# A field with one of these names holds a person's identity or contact details.
IDENTIFYING = {"prenom", "first_name", "last_name", "email", "telephone", "date_naissance"}
# Legal entities' switchboard and address, not a person's.
NOT_PERSONAL = {"cvu.Organisation"}
HEADINGS = {"Finalité", "Base légale", "Données", "Durée de conservation", "Destinataires"}


def _sections() -> dict[str, str]:
    parts = re.split(r"^## (.+)$", REGISTRE.read_text(encoding="utf-8"), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _fields(label: str) -> set[str]:
    model = apps.get_model(label)
    names = {f.name for f in model._meta.get_fields() if f.concrete and not f.auto_created}
    return names - TECHNICAL.get(label, set())


@pytest.mark.parametrize(
    ("section", "label"), [(s, m) for s, models in SECTIONS.items() for m in models]
)
def test_every_field_of_a_model_is_in_its_section(section, label):
    text = _sections()[section]
    assert f"`{label}`" in text
    missing = sorted(name for name in _fields(label) if f"`{name}`" not in text)
    assert not missing, f"{label} : champs absents du registre, section « {section} » : {missing}"


def test_every_model_with_identities_is_in_the_register():
    registered = {label for models in SECTIONS.values() for label in models}
    for model in apps.get_models():
        if not model.__module__.startswith(("comptes", "quartiers", "cvu", "participation")):
            continue
        names = {f.name for f in model._meta.get_fields() if f.concrete}
        if names & IDENTIFYING and model._meta.label not in NOT_PERSONAL | registered:
            if model._meta.label.split(".")[1].startswith("Historical"):
                continue
            pytest.fail(f"{model._meta.label} contient des données personnelles : ajoutez-le.")


@pytest.mark.parametrize("section", SECTIONS)
def test_each_processing_states_purpose_basis_data_retention_and_recipients(section):
    text = _sections()[section]
    assert {h for h in HEADINGS if f"**{h}" in text} == HEADINGS


def test_retention_periods_are_the_configured_ones():
    text = _sections()["1. Membres des instances de participation (habitants)"]
    assert f"{settings.MEMBRES_CONSERVATION_ANNEES} ans après la fin du mandat" in text
    assert f"{settings.IMPORT_APERCU_MINUTES} minutes au plus" in text
    assert f"{settings.SESSION_COOKIE_AGE // 3600} heures au plus" in text
    for task in ("anonymise_members", "purge_import_previews", "clear_sessions"):
        assert f"`{task}`" in text
        assert any(e["task"].endswith(f".{task}") for e in settings.CELERY_BEAT_SCHEDULE.values())


def test_emails_retention_is_the_purge_s():
    from core import outbox

    text = " ".join(_sections()["3. Comptes des agents"].split())
    assert f"{outbox.SENT_KEPT.days} jours après l'envoi" in text
    assert "`purge_emails`" in text
    assert any(
        e["task"] == "core.tasks.purge_emails" for e in settings.CELERY_BEAT_SCHEDULE.values()
    )


def test_every_legal_basis_a_member_can_have_is_described():
    from participation.models import Membre

    text = " ".join(_sections()["1. Membres des instances de participation (habitants)"].split())
    for _value, label in Membre.BaseLegale.choices:
        assert label.lower() in text.lower(), label
