"""Issue 12, item 4: one rule for creation. For every role, a list offers "Nouveau…" exactly when
the creation page opens, and the creation page opens exactly when `rights.may_create` says so."""

import pytest
from django.urls import reverse

from cvu import rights
from cvu.models import (
    AppelAProjets,
    DispositifConnexe,
    Instance,
    Organisation,
    ProgrammeActions,
    Reunion,
)
from participation.models import ConseilCitoyen, CycleQualification, Demarche

pytestmark = pytest.mark.django_db

LISTS = [
    ("cvu:programme_list", "cvu:programme_create", ProgrammeActions),
    ("cvu:organisation_list", "cvu:organisation_create", Organisation),
    ("cvu:instance_list", "cvu:instance_create", Instance),
    ("cvu:dispositif_list", "cvu:dispositif_create", DispositifConnexe),
    ("cvu:calendrier", "cvu:reunion_create", Reunion),
    ("cvu:aap_list", "cvu:aap_create", AppelAProjets),
    ("participation:conseil_list", "participation:conseil_create", ConseilCitoyen),
    ("participation:demarche_list", "participation:demarche_create", Demarche),
    ("participation:cycle_list", "participation:cycle_create", CycleQualification),
]
ROLES = ["editor", "reader", "manager"]
# What the service decided: the chef de service creates calls, schemes and training cycles;
# a chef de projet creates the rest in their sector; the direction creates nothing.
EXPECTED = {
    "manager": {model for *_, model in LISTS},
    "editor": {ProgrammeActions, Organisation, Instance, Reunion, ConseilCitoyen, Demarche},
    "reader": set(),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("list_name", "create_name", "model"), LISTS)
def test_the_button_the_page_and_the_rule_agree(
    request, client, commune, role, list_name, create_name, model
):
    user = request.getfixturevalue(role)
    client.force_login(user)
    allowed = model in EXPECTED[role]
    assert rights.may_create(user, model) is allowed
    create_url = reverse(create_name)
    listing = client.get(reverse(list_name)).content.decode()
    assert (f'href="{create_url}"' in listing) is allowed
    assert client.get(create_url).status_code == (200 if allowed else 403)
