"""Issue 12, item 5: adding a member never tells which other council a namesake sits in."""

import io

import pytest

from participation.models import Membre
from tests.participation.rgpd import MEMBRE_POST, conseil_elsewhere, conseil_in, membre
from tests.participation.test_import import HEADER

pytestmark = pytest.mark.django_db

REFUSAL = "Awa Diallo siège déjà au collège habitants d&#x27;une autre instance de participation"


@pytest.fixture
def mine(commune):
    return conseil_in(commune)


@pytest.fixture
def theirs(outsider):
    conseil = conseil_elsewhere(outsider)
    membre(conseil, prenom="Awa", nom="Diallo")
    return conseil


def test_member_form_refuses_a_namesake_without_naming_the_other_council(
    client, editor, mine, theirs
):
    client.force_login(editor)
    response = client.post(
        f"/participation/conseils/{mine.pk}/membres/nouveau/",
        {**MEMBRE_POST, "prenom": "Awa", "nom": "Diallo"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert REFUSAL in html
    assert "Champvallon" not in html
    assert not Membre.objects.filter(conseil=mine).exists()


def test_import_preview_refuses_a_namesake_without_naming_the_other_council(
    client, editor, mine, theirs
):
    row = ["awa", "DIALLO", "Habitants", "Femme", "25 à 39 ans", "oui", "Volontaire"]
    text = ";".join(HEADER) + "\n" + ";".join([*row, "15/01/2026", "mission_publique"]) + "\n"
    upload = io.BytesIO(text.encode())
    upload.name = "membres.csv"
    client.force_login(editor)
    response = client.post(
        f"/participation/conseils/{mine.pk}/membres/import/", {"fichier": upload}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "siège déjà au collège habitants d&#x27;une autre instance" in html
    assert "Champvallon" not in html


def test_a_council_followed_by_the_user_is_not_named_either(client, manager, mine, theirs):
    """The rule holds for everyone: the message is the same whoever asks."""
    client.force_login(manager)
    response = client.post(
        f"/participation/conseils/{mine.pk}/membres/nouveau/",
        {**MEMBRE_POST, "prenom": "Awa", "nom": "Diallo"},
    )
    assert REFUSAL in response.content.decode()
    assert "Champvallon" not in response.content.decode()
