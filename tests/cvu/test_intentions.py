"""Porteurs before the call: fiches d'intention, the advice log, the next steps on the home page
and the tie between a fiche and the dossier the Dauphin import brings."""

import html
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cvu.dauphin import guess_mapping, plan_import, read_table
from cvu.intentions import organisation_section
from cvu.models import Action, Echange, FicheIntention, Organisation
from tests.cvu.aap_factories import SIRET_ASSO, SIRET_CS, table
from tests.cvu.factories import ActionFactory, OrganisationFactory
from tests.quartiers.factories import QpvFactory

pytestmark = pytest.mark.django_db


def page(response) -> str:
    text = html.unescape(response.content.decode())
    return text.replace("\u202f", " ").replace("\xa0", " ")


def fiche(
    *, porteur, contrat, auteur, qpvs=(), appel=None, titre="Jardin partagé"
) -> FicheIntention:
    intention = FicheIntention.objects.create(
        contrat=contrat, appel=appel, porteur=porteur, titre=titre, auteur=auteur
    )
    intention.qpvs.set(qpvs)
    return intention


def form_data(contrat, **extra) -> dict:
    return {
        "contrat": contrat.pk,
        "appel": "",
        "porteur": "",
        "nouveau_porteur_nom": "",
        "nouveau_porteur_type": "",
        "nouveau_porteur_siret": "",
        "titre": "Atelier vélo",
        "description": "Réparer des vélos avec les habitants.",
        "priorite": "",
        "cout_estime": "12 000",
        "date_rencontre": "2026-01-15",
        "conseil": "Déposer sur Dauphin avant la clôture.",
        "orientation": FicheIntention.Orientation.ENCOURAGEE,
        **extra,
    }


# ---------------------------------------------------------------- fiches d'intention


def test_create_with_a_new_porteur_creates_the_organisation(client, editor, contrat, qpv):
    client.force_login(editor)
    response = client.post(
        reverse("cvu:intention_create"),
        form_data(
            contrat,
            nouveau_porteur_nom="Vélo Solidaire",
            nouveau_porteur_type=Organisation.Type.ASSOCIATION,
            nouveau_porteur_siret=SIRET_ASSO,
            qpvs=[qpv.pk],
        ),
    )
    intention = FicheIntention.objects.get()
    assert response.status_code == 302 and response.url == intention.get_absolute_url()
    porteur = Organisation.objects.get(nom="Vélo Solidaire")
    assert (porteur.type, porteur.siret) == ("association", SIRET_ASSO)
    assert intention.porteur == porteur and intention.auteur == editor
    assert list(intention.qpvs.all()) == [qpv]
    assert intention.cout_estime == Decimal("12000")
    detail = page(client.get(intention.get_absolute_url()))
    assert "Atelier vélo" in detail and "Vélo Solidaire" in detail and "Encouragée" in detail


def test_create_with_an_existing_porteur(client, manager, contrat):
    porteur = OrganisationFactory(nom="Centre social des Buis")
    client.force_login(manager)
    response = client.post(reverse("cvu:intention_create"), form_data(contrat, porteur=porteur.pk))
    assert response.status_code == 302
    assert FicheIntention.objects.get().porteur == porteur
    assert Organisation.objects.count() == 1


@pytest.mark.parametrize(
    "porteur_fields, message",
    [
        (
            {"nouveau_porteur_nom": "Vélo Solidaire", "nouveau_porteur_type": "association"},
            "pas les deux",
        ),
        ({}, "Indiquez le porteur"),
    ],
    ids=["both", "neither"],
)
def test_porteur_both_or_neither_is_refused(client, editor, contrat, porteur_fields, message):
    existing = OrganisationFactory(nom="Centre social des Buis")
    client.force_login(editor)
    if message == "pas les deux":
        porteur_fields = {**porteur_fields, "porteur": existing.pk}
    response = client.post(reverse("cvu:intention_create"), form_data(contrat, **porteur_fields))
    assert response.status_code == 400
    assert message in page(response)
    assert not FicheIntention.objects.exists()
    assert Organisation.objects.count() == 1


def test_new_porteur_with_an_existing_name_is_refused(client, editor, contrat):
    OrganisationFactory(nom="Vélo Solidaire")
    client.force_login(editor)
    response = client.post(
        reverse("cvu:intention_create"),
        form_data(
            contrat, nouveau_porteur_nom="vélo solidaire", nouveau_porteur_type="association"
        ),
    )
    assert response.status_code == 400
    assert "Une organisation s'appelle déjà « vélo solidaire »" in page(response)
    assert Organisation.objects.count() == 1 and not FicheIntention.objects.exists()


def test_the_form_offers_the_contract_and_its_next_call_and_its_geography(
    client, editor, contrat, qpv
):
    from tests.cvu.aap_factories import AppelFactory

    appel = AppelFactory(contrat=contrat, statut="ouvert")
    old = QpvFactory(nom="Ancien quartier", geographie="2015")
    client.force_login(editor)
    response = client.get(reverse("cvu:intention_create"))
    form = response.context["form"]
    assert form.initial["contrat"] == contrat.pk and form.initial["appel"] == appel.pk
    offered = list(form.fields["qpvs"].queryset)
    assert qpv in offered and old not in offered
    response = client.post(
        reverse("cvu:intention_create"),
        form_data(contrat, porteur=OrganisationFactory().pk, qpvs=[old.pk], appel=appel.pk),
    )
    assert response.status_code == 400


@pytest.fixture
def intention(manager, contrat, qpv):
    """A fiche the chef de service wrote, aiming at the editor's QPV."""
    return fiche(
        porteur=OrganisationFactory(nom="Vélo Solidaire"),
        contrat=contrat,
        auteur=manager,
        qpvs=[qpv],
    )


@pytest.mark.parametrize(
    "who, creates, edits",
    [
        ("editor", True, True),  # the chef de projet of the QPV
        ("outsider", True, False),  # another chef de projet
        ("reader", False, False),  # the direction
        ("manager", True, True),  # the chef de service
    ],
)
def test_role_matrix(request, client, intention, contrat, who, creates, edits):
    user = request.getfixturevalue(who)
    client.force_login(user)
    # Create
    response = client.get(reverse("cvu:intention_create"))
    assert response.status_code == (200 if creates else 403)
    list_page = page(client.get(reverse("cvu:intention_list")))
    assert ("Nouvelle fiche d'intention" in list_page) is creates
    response = client.post(
        reverse("cvu:intention_create"),
        form_data(contrat, porteur=intention.porteur_id, titre="Idée de " + who),
    )
    assert FicheIntention.objects.filter(titre="Idée de " + who).exists() is creates
    # Edit
    url = reverse("cvu:intention_update", args=[intention.pk])
    assert client.get(url).status_code == (200 if edits else 403)
    response = client.post(
        url,
        form_data(
            contrat,
            porteur=intention.porteur_id,
            qpvs=[q.pk for q in intention.qpvs.all()],
            titre="Titre revu",
        ),
    )
    intention.refresh_from_db()
    assert (intention.titre == "Titre revu") is edits
    detail = page(client.get(intention.get_absolute_url()))
    assert ("Supprimer" in detail) is edits
    # Delete
    url = reverse("cvu:intention_delete", args=[intention.pk])
    assert client.get(url).status_code == (200 if edits else 403)
    response = client.post(url)
    assert FicheIntention.objects.filter(pk=intention.pk).exists() is not edits


def test_list_filters_and_search(client, reader, contrat, manager):
    a = fiche(
        porteur=OrganisationFactory(nom="Vélo Solidaire"),
        contrat=contrat,
        auteur=manager,
        titre="Atelier vélo",
    )
    b = fiche(
        porteur=OrganisationFactory(nom="Les Buis"), contrat=contrat, auteur=manager, titre="Jardin"
    )
    b.orientation = FicheIntention.Orientation.DROIT_COMMUN
    b.save()
    client.force_login(reader)
    url = reverse("cvu:intention_list")
    assert list(client.get(url, {"search": "solidaire"}).context["page_obj"]) == [a]
    assert list(client.get(url, {"orientation": "droit_commun"}).context["page_obj"]) == [b]
    assert client.get(url).context["page_obj"].paginator.count == 2


# ---------------------------------------------------------------- échanges


def test_echange_on_the_porteur_page_tied_to_an_intention(client, editor, intention):
    client.force_login(editor)
    porteur = intention.porteur
    url = reverse("cvu:echange_create", args=[porteur.pk])
    form = client.get(url, {"intention": intention.pk}).context["form"]
    assert form.initial["intention"] == str(intention.pk)
    response = client.post(
        url,
        {
            "date": "2026-01-20",
            "mode": Echange.Mode.TELEPHONE,
            "interlocuteurs": "La présidente",
            "intention": intention.pk,
            "conseil": "Chiffrer les ateliers.",
            "prochaine_etape": "Relire le budget",
            "date_prochaine_etape": "2026-02-01",
        },
    )
    assert response.status_code == 302
    echange = Echange.objects.get()
    assert (echange.agent, echange.intention, echange.organisation) == (editor, intention, porteur)
    text = page(client.get(porteur.get_absolute_url()))
    assert "Échanges et conseils" in text and "Chiffrer les ateliers." in text
    assert "Relire le budget" in text and "Marquer comme faite" in text
    assert "Vélo Solidaire" in text and intention.titre in text
    assert "Chiffrer les ateliers." in page(client.get(intention.get_absolute_url()))

    client.post(reverse("cvu:echange_done", args=[echange.pk]))
    echange.refresh_from_db()
    assert echange.etape_faite

    # From the fiche's page: the new exchange is tied to it and the person comes back to it.
    detail = page(client.get(intention.get_absolute_url()))
    assert f"{url}?intention={intention.pk}" in detail
    response = client.post(
        f"{url}?intention={intention.pk}",
        {
            "date": "2026-02-03",
            "mode": Echange.Mode.RENCONTRE,
            "intention": intention.pk,
            "conseil": "Budget relu ensemble.",
            "retour": "intention",
        },
    )
    assert response.url == intention.get_absolute_url()
    assert intention.echanges.count() == 2


def test_echange_rights(client, editor, outsider, reader, manager, intention):
    echange = Echange.objects.create(
        organisation=intention.porteur, date=date(2026, 1, 5), agent=editor, conseil="Voir la CAF"
    )
    for user, allowed in ((outsider, False), (reader, False), (manager, True), (editor, True)):
        client.force_login(user)
        expected = 200 if allowed else 403
        assert client.get(reverse("cvu:echange_update", args=[echange.pk])).status_code == expected
        assert client.get(reverse("cvu:echange_delete", args=[echange.pk])).status_code == expected
    for user, allowed in ((outsider, False), (editor, True), (manager, True)):
        client.force_login(user)
        section = client.get(intention.porteur.get_absolute_url()).context
        assert [e.can_edit for e in section["porteur_echanges"]] == [allowed]
        assert [i.can_edit for i in section["porteur_intentions"]] == [user != outsider]
    client.force_login(reader)
    url = reverse("cvu:echange_create", args=[intention.porteur_id])
    assert client.get(url).status_code == 403
    client.force_login(outsider)
    assert client.get(url).status_code == 200
    client.force_login(editor)
    client.post(reverse("cvu:echange_delete", args=[echange.pk]))
    assert not Echange.objects.exists()


def test_organisation_section_query_count_is_constant(client, editor, contrat, manager, qpv):
    porteur = OrganisationFactory(nom="Vélo Solidaire")

    def add(n):
        for i in range(n):
            intention = fiche(
                porteur=porteur, contrat=contrat, auteur=manager, titre=f"Idée {i}", qpvs=[qpv]
            )
            intention.action = ActionFactory(contrat=contrat, porteur=porteur)
            intention.save()
            Echange.objects.create(
                organisation=porteur,
                intention=intention,
                agent=editor,
                date=date(2026, 1, 1),
                conseil=f"Conseil {i}",
            )

    add(1)
    with CaptureQueriesContext(connection) as one:
        section = organisation_section(editor, porteur)
    assert len(one) == 2
    add(3)
    with CaptureQueriesContext(connection) as four:
        section = organisation_section(editor, porteur)
    assert len(four) == 2
    assert all(e.can_edit for e in section["porteur_echanges"])
    assert all(i.can_edit for i in section["porteur_intentions"])  # they aim at the editor's QPV
    client.force_login(editor)
    response = client.get(porteur.get_absolute_url())
    assert page(response).count("Conseil ") == 4


# ---------------------------------------------------------------- the home page


def test_next_step_on_the_home_page_when_due_not_done_and_only_for_its_agent(
    client, editor, outsider, intention
):
    today = timezone.localdate()
    late = Echange.objects.create(
        organisation=intention.porteur,
        date=today - timedelta(days=20),
        agent=editor,
        conseil="Revoir le budget",
        prochaine_etape="Rappeler la trésorière",
        date_prochaine_etape=today - timedelta(days=2),
    )
    Echange.objects.create(
        organisation=intention.porteur,
        date=today,
        agent=editor,
        conseil="Plus tard",
        prochaine_etape="Visite du local",
        date_prochaine_etape=today + timedelta(days=30),
    )
    client.force_login(editor)
    text = page(client.get(reverse("reporting:home")))
    assert "Prochaines étapes avec les porteurs" in text
    assert "Rappeler la trésorière" in text and "en retard" in text
    assert intention.porteur.get_absolute_url() in text
    assert "Visite du local" not in text  # not due yet

    client.force_login(outsider)
    text = page(client.get(reverse("reporting:home")))
    assert "Rappeler la trésorière" not in text
    assert "Prochaines étapes avec les porteurs" not in text

    client.force_login(editor)
    response = client.post(reverse("cvu:echange_done", args=[late.pk]), {"next": "/"})
    assert response.url == "/"
    home = client.get(reverse("reporting:home"))
    assert home.context["etapes_porteurs"] == []
    assert "Prochaines étapes avec les porteurs" not in page(home)


# ---------------------------------------------------------------- the Dauphin import

HEADERS = [
    "N° dossier",
    "Raison sociale",
    "N° SIRET",
    "Intitulé de l'action",
    "Exercice",
    "Montant sollicité État",
    "Montant sollicité PMA",
]
ROWS = [
    [
        "2026-001",
        "Centre social Petite-Hollande",
        SIRET_CS,
        "Accompagnement scolaire",
        2026,
        12000,
        8000,
    ],
    ["2026-002", "Association Les Buis", SIRET_ASSO, "Jardins partagés", 2026, 3500, None],
]


def _post_mapping(mapping):
    return {key: "" if value is None else str(value) for key, value in mapping.items()}


def test_dauphin_import_ties_the_intention_to_its_dossier(
    client, manager, appel, porteurs, contrat
):
    centre, buis = porteurs
    matched = fiche(
        porteur=centre, contrat=contrat, appel=appel, auteur=manager, titre="Soutien scolaire"
    )
    # Two fiches for the Buis: none chosen in advance; the person picks one.
    fiche(porteur=buis, contrat=contrat, auteur=manager, titre="Potager")
    chosen = fiche(porteur=buis, contrat=contrat, auteur=manager, titre="Jardins")
    other_contract = fiche(
        porteur=buis, contrat=ActionFactory().contrat, auteur=manager, titre="Hors contrat"
    )
    client.force_login(manager)
    url = reverse("cvu:aap_import", args=[appel.pk])
    response = client.post(url, {"fichier": SimpleUploadedFile("d.xlsx", table([HEADERS, *ROWS]))})
    token, mapping = response.context["token"], response.context["mapping_form"].initial
    preview = client.post(url, {"token": token, "apercu": "1", **_post_mapping(mapping)})
    plan = preview.context["plan"]
    assert plan.ok
    first, second = plan.lignes
    assert first.intentions == [matched] and first.intention == matched
    assert other_contract not in second.intentions and len(second.intentions) == 2
    assert second.intention is None
    text = page(preview)
    assert "Fiches d'intention à rattacher" in text and "Soutien scolaire" in text

    response = client.post(
        url,
        {
            "token": token,
            "confirmer": "1",
            "intentions_vues": "1",
            f"intention_{first.dauphin}": matched.pk,
            f"intention_{second.dauphin}": chosen.pk,
            **_post_mapping(mapping),
        },
    )
    assert response.status_code == 302
    matched.refresh_from_db()
    chosen.refresh_from_db()
    dossier = Action.objects.get(appel=appel, porteur=centre)
    assert matched.action == dossier
    assert chosen.action == Action.objects.get(appel=appel, porteur=buis)
    text = page(client.get(dossier.get_absolute_url()))
    assert "Issu de la fiche d'intention" in text and "Soutien scolaire" in text
    # A dossier without a fiche shows nothing of it (no error on the missing relation).
    lone = ActionFactory(contrat=contrat)
    assert "Issu de la fiche" not in page(client.get(lone.get_absolute_url()))

    # Re-importing the same file keeps the links and offers nothing more.
    response = client.post(url, {"fichier": SimpleUploadedFile("d.xlsx", table([HEADERS, *ROWS]))})
    token = response.context["token"]
    preview = client.post(url, {"token": token, "apercu": "1", **_post_mapping(mapping)})
    assert not preview.context["plan"].with_intentions
    client.post(url, {"token": token, "confirmer": "1", **_post_mapping(mapping)})
    matched.refresh_from_db()
    assert matched.action == dossier


def test_dauphin_choice_of_none_and_same_fiche_twice(manager, appel, porteurs, contrat):
    centre, _ = porteurs
    only = fiche(porteur=centre, contrat=contrat, appel=appel, auteur=manager)
    rows = [ROWS[0], ["2026-003", *ROWS[0][1:3], "Autre action", 2026, 1000, None]]
    data = table([HEADERS, *rows])
    parsed = read_table(data)
    mapping = guess_mapping(parsed.headers, [e.financeur for e in appel.enveloppes.all()])
    plan = plan_import(table=parsed, mapping=mapping, appel=appel, user=manager)
    # One fiche, two dossiers of the porteur: nothing chosen in advance.
    assert [ligne.intention for ligne in plan.lignes] == [None, None]
    assert all(ligne.intentions == [only] for ligne in plan.lignes)
    keys = [ligne.dauphin for ligne in plan.lignes]
    plan = plan_import(
        table=parsed,
        mapping=mapping,
        appel=appel,
        user=manager,
        intentions={keys[0]: str(only.pk), keys[1]: str(only.pk)},
    )
    assert not plan.ok
    assert "déjà choisie pour le dossier" in " ".join(plan.lignes[1].errors)
    plan = plan_import(
        table=parsed,
        mapping=mapping,
        appel=appel,
        user=manager,
        intentions={keys[0]: "", keys[1]: str(only.pk)},
    )
    assert plan.ok and [ligne.intention for ligne in plan.lignes] == [None, only]


def test_dauphin_intention_lookup_is_one_query_per_file(manager, appel, porteurs, contrat):
    centre, buis = porteurs
    data = table([HEADERS, *ROWS])
    parsed = read_table(data)
    mapping = guess_mapping(parsed.headers, [e.financeur for e in appel.enveloppes.all()])
    fiche(porteur=centre, contrat=contrat, appel=appel, auteur=manager)
    with CaptureQueriesContext(connection) as one:
        plan_import(table=parsed, mapping=mapping, appel=appel, user=manager)
    fiche(porteur=buis, contrat=contrat, appel=appel, auteur=manager)
    fiche(porteur=buis, contrat=contrat, auteur=manager, titre="Autre")
    with CaptureQueriesContext(connection) as three:
        plan = plan_import(table=parsed, mapping=mapping, appel=appel, user=manager)
    assert len(three) == len(one)
    assert [len(ligne.intentions) for ligne in plan.lignes] == [1, 2]
