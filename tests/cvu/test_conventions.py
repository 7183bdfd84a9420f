"""Conventions of the collectivité's own grants: templates, establishing, PDF, signatures."""

import html
import shutil
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cvu import conventions
from cvu.models import Action, Convention, Document, ModeleConvention, TransitionStatut
from cvu.models.aap import validate_letter, validate_placeholders
from tests.comptes.factories import UserFactory
from tests.cvu.aap_factories import SIRET_ASSO
from tests.cvu.factories import ActionFactory, FinancementFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
S = Action.Statut


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def admin_user(db):
    return UserFactory(email="admin@pma.test", administrateur=True)


@pytest.fixture
def porteur(db):
    return OrganisationFactory(
        nom="Association Les Buis",
        siret=SIRET_ASSO,
        adresse="3 rue des Buis",
        code_postal="25200",
        ville="Montbéliard",
    )


@pytest.fixture
def signed_contract(contrat, pma, etat):
    contrat.signataires.set([pma, etat])
    return contrat


def make_dossier(
    contrat, porteur, pma, etat, *, votes, annee_fin=None, statut=S.NOTIFIE, numero="2026-00042"
):
    """A dossier of `porteur`; votes maps a year to PMA's voted amount (the State adds 5 000 €)."""
    action = ActionFactory(
        contrat=contrat,
        porteur=porteur,
        titre="Jardins partagés des Buis",
        description="Animer trois jardins partagés au pied des immeubles.",
        annee=min(votes),
        annee_fin=annee_fin,
        numero_dauphin=numero,
        statut=statut,
    )
    for year, amount in votes.items():
        FinancementFactory(
            action=action,
            financeur=pma,
            annee=year,
            montant_demande=amount,
            montant_vote=amount,
        )
    FinancementFactory(
        action=action,
        financeur=etat,
        annee=min(votes),
        montant_demande=Decimal("5000"),
        montant_vote=Decimal("5000"),
    )
    return action


@pytest.fixture
def dossier(signed_contract, porteur, pma, etat):
    """Notified; PMA votes 24 000 € for 2026 (above the threshold)."""
    return make_dossier(signed_contract, porteur, pma, etat, votes={2026: Decimal("24000")})


@pytest.fixture
def cpo(signed_contract, porteur, pma, etat):
    """A notified multi-year dossier, PMA voting 12 000 € a year from 2026 to 2028."""
    return make_dossier(
        signed_contract,
        porteur,
        pma,
        etat,
        votes={2026: Decimal("12000"), 2027: Decimal("12000"), 2028: Decimal("12500")},
        annee_fin=2028,
    )


def text_of(response) -> str:
    return html.unescape(response.content.decode()).replace("\u202f", " ").replace("\xa0", " ")


def pdf_text(data: bytes) -> str:
    output = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    return output.replace("\u202f", " ").replace("\xa0", " ")


def establish(client, action, **extra):
    data = {
        "modele": conventions.default_modele(action).pk,
        "numero": "2026-CV-007",
        "reference_decision": "Délibération C 2026-112",
        "date_decision": "2026-03-26",
        **extra,
    }
    return client.post(reverse("cvu:convention_create", args=[action.pk]), data)


def sign_data(**extra):
    return {
        "date_signature_porteur": "2026-04-10",
        "date_signature_collectivite": "2026-04-14",
        "fichier": SimpleUploadedFile("convention-signee.pdf", b"%PDF-1.4 signee"),
        **extra,
    }


# ---------------------------------------------------------------- placeholders and templates


def test_unknown_placeholder_is_refused_with_the_french_message():
    with pytest.raises(ValidationError) as error:
        conventions.validate_template("Entre $collectivite et $destinataire")
    assert error.value.messages[0].startswith("Variable(s) inconnue(s) : $destinataire.")
    assert "$montant_par_annee" in error.value.messages[0]
    conventions.validate_template("Entre $collectivite et ${porteur}, 100 $$")


def test_generalised_validator_keeps_the_letters_rule():
    validate_letter("Bonjour $porteur")
    with pytest.raises(ValidationError, match=r"Variable\(s\) inconnue\(s\) : \$montant\."):
        validate_letter("Montant : $montant")  # a convention's variable, not a letter's
    with pytest.raises(ValidationError, match="Un « \\$ » seul"):
        validate_placeholders("Coût : 3 $ par jour", {"porteur": ""})


def test_default_templates_are_an_annual_and_a_cpo_one_and_valid():
    modeles = {m.type: m for m in ModeleConvention.objects.all()}
    assert set(modeles) == {"annuelle", "pluriannuelle"}
    for modele in modeles.values():
        conventions.validate_template(modele.texte)
        assert "Cerfa n° 15059" in modele.texte
        assert "contrat d'engagement républicain" in modele.texte
    assert "$montant_par_annee" in modeles["pluriannuelle"].texte


def test_template_form_refuses_an_unknown_variable(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("cvu:modele_convention_create"),
        {"nom": "Essai", "type": "annuelle", "texte": "Entre $collectivite et $inconnu"},
    )
    assert response.status_code == 200
    assert "Variable(s) inconnue(s) : $inconnu" in text_of(response)
    assert not ModeleConvention.objects.filter(nom="Essai").exists()


def test_manager_edits_a_template(client, manager):
    modele = ModeleConvention.objects.get(type="annuelle")
    client.force_login(manager)
    page = client.get(reverse("cvu:modele_convention_update", args=[modele.pk])).content.decode()
    assert "Proposé à l&#x27;établissement des conventions" in page
    assert 'aria-label="Fil d\'Ariane"' in page
    assert page.count("$montant_par_annee") == 1  # listed beside the form only
    response = client.post(
        reverse("cvu:modele_convention_update", args=[modele.pk]),
        {"nom": "Convention annuelle 2027", "type": "annuelle", "texte": "Avec $porteur."},
    )
    assert response.status_code == 302
    modele.refresh_from_db()
    assert (modele.nom, modele.texte, modele.actif) == (
        "Convention annuelle 2027",
        "Avec $porteur.",
        False,
    )


@pytest.mark.parametrize("role", ["editor", "reader"])
def test_templates_are_read_by_chefs_de_projet_and_direction(client, request, role):
    modele = ModeleConvention.objects.get(type="pluriannuelle")
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("cvu:modele_convention_list"))
    assert response.status_code == 200
    assert modele.nom in text_of(response)
    detail = client.get(reverse("cvu:modele_convention_detail", args=[modele.pk]))
    assert detail.status_code == 200 and "$montant_par_annee" in text_of(detail)
    assert "Modifier" not in text_of(detail)
    update = reverse("cvu:modele_convention_update", args=[modele.pk])
    assert client.get(update).status_code == 403
    assert client.post(update, {"nom": "x", "type": "annuelle", "texte": "x"}).status_code == 403
    create = reverse("cvu:modele_convention_create")
    assert client.post(create, {"nom": "x", "type": "annuelle", "texte": "x"}).status_code == 403
    assert ModeleConvention.objects.get(pk=modele.pk).nom == modele.nom


# ---------------------------------------------------------------- required or not


def test_required_above_23000_for_the_collectivite(dossier, manager):
    section = conventions.action_section(manager, dossier)["convention_section"]
    assert section["obligatoire"] == [(2026, Decimal("24000.00"))]
    assert section["total"] == Decimal("24000.00")
    assert section["collectivite"].sigle == "PMA"


def test_not_required_at_or_below_23000(signed_contract, porteur, pma, etat, manager):
    action = make_dossier(signed_contract, porteur, pma, etat, votes={2026: Decimal("23000")})
    section = conventions.action_section(manager, action)["convention_section"]
    assert section["obligatoire"] == []
    assert section["refus"] == ""  # a convention may still be chosen


def test_two_grants_to_one_porteur_add_up(signed_contract, porteur, pma, etat, manager):
    first = make_dossier(signed_contract, porteur, pma, etat, votes={2026: Decimal("13000")})
    make_dossier(
        signed_contract, porteur, pma, etat, votes={2026: Decimal("12000")}, numero="2026-00043"
    )
    section = conventions.action_section(manager, first)["convention_section"]
    assert section["obligatoire"] == [(2026, Decimal("25000.00"))]


def test_collectivite_is_the_epci_signatory(signed_contract, pma):
    assert conventions.collectivite(signed_contract) == pma
    signed_contract.signataires.remove(pma)
    assert conventions.collectivite(signed_contract) is None


# ---------------------------------------------------------------- establishing


def test_establishing_an_annual_convention_fills_it_and_keeps_the_pdf(client, manager, dossier):
    client.force_login(manager)
    page = client.get(reverse("cvu:convention_create", args=[dossier.pk]))
    assert page.status_code == 200
    assert page.context["form"].initial["modele"].type == "annuelle"
    response = establish(client, dossier)
    assert response.status_code == 302
    convention = Convention.objects.get(action=dossier)
    assert convention.montant == Decimal("24000.00")
    assert (convention.annee_debut, convention.annee_fin) == (2026, 2026)
    text = convention.texte.replace("\u202f", " ").replace("\xa0", " ")
    assert "Association Les Buis" in text and SIRET_ASSO in text
    assert "3 rue des Buis, 25200 Montbéliard" in text
    assert "24 000,00 €" in text and "exercice 2026" in text
    assert "Délibération C 2026-112 du 26 mars 2026" in text
    assert "Pays de Montbéliard Agglomération" in text
    assert "$" not in text
    document = convention.document
    assert document.action == dossier and document.content_type == "application/pdf"
    assert document.nom == f"convention-2026-cv-007-v1-{date.today():%Y-%m-%d}.pdf"
    with document.fichier.open("rb") as stored:
        data = stored.read()
    assert data.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        assert "24 000,00 €" in pdf_text(data)
    assert convention.statut == Convention.Statut.ENVOYEE
    detail = text_of(client.get(dossier.get_absolute_url()))
    assert "Envoyée pour signature" in detail and document.nom in detail
    assert "convention obligatoire" in detail


def test_establishing_a_cpo_lists_the_amount_of_each_year(client, manager, cpo):
    client.force_login(manager)
    assert conventions.default_modele(cpo).type == "pluriannuelle"
    assert establish(client, cpo).status_code == 302
    convention = Convention.objects.get(action=cpo)
    assert convention.montant == Decimal("36500.00")
    assert (convention.annee_debut, convention.annee_fin) == (2026, 2028)
    text = convention.texte.replace("\u202f", " ").replace("\xa0", " ")
    assert "- 2026 : 12 000,00 €\n- 2027 : 12 000,00 €\n- 2028 : 12 500,00 €" in text
    assert "pour 3 ans, de 2026 à 2028" in text
    with convention.document.fichier.open("rb") as stored:
        data = stored.read()
    assert data.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        pdf = pdf_text(data)
        assert "12 500,00 €" in pdf and "36 500,00 €" in pdf and "2027" in pdf


def test_re_editing_builds_a_new_pdf_and_keeps_the_previous_one(client, manager, dossier):
    client.force_login(manager)
    establish(client, dossier)
    convention = Convention.objects.get(action=dossier)
    first = convention.document
    response = client.post(
        reverse("cvu:convention_update", args=[convention.pk]),
        {
            "numero": "2026-CV-007",
            "reference_decision": "Délibération C 2026-112",
            "date_decision": "2026-03-26",
            "texte": "Article 1 – Objet\nUn texte revu avec le porteur.",
        },
    )
    assert response.status_code == 302
    convention.refresh_from_db()
    assert convention.texte.endswith("Un texte revu avec le porteur.")
    assert convention.document != first
    assert convention.document.nom.startswith("convention-2026-cv-007-v2-")
    assert set(Document.objects.filter(action=dossier)) == {first, convention.document}


def test_refilling_from_the_template_follows_the_new_vote(client, manager, dossier, pma):
    client.force_login(manager)
    establish(client, dossier)
    convention = Convention.objects.get(action=dossier)
    dossier.financements.filter(financeur=pma).update(montant_vote=Decimal("26000"))
    response = client.post(
        reverse("cvu:convention_update", args=[convention.pk]),
        {
            "numero": "2026-CV-007",
            "reference_decision": "Délibération C 2026-140",
            "date_decision": "2026-04-02",
            "texte": "",
            "refaire": "on",
            "modele": convention.modele_id,
        },
    )
    assert response.status_code == 302
    convention.refresh_from_db()
    assert convention.montant == Decimal("26000.00")
    assert "26 000,00 €" in convention.texte.replace("\u202f", " ").replace("\xa0", " ")
    assert "Délibération C 2026-140" in convention.texte


def test_a_dossier_not_yet_notified_is_refused(
    client, manager, signed_contract, porteur, pma, etat
):
    action = make_dossier(
        signed_contract, porteur, pma, etat, votes={2026: Decimal("24000")}, statut=S.PROGRAMME
    )
    client.force_login(manager)
    response = establish(client, action, modele=ModeleConvention.objects.first().pk)
    assert response.status_code == 302
    assert not Convention.objects.exists()
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == [
        "Le dossier est « Programmé » : la convention s'établit une fois le dossier notifié."
    ]
    with pytest.raises(ValidationError, match="une fois le dossier notifié"):
        conventions.convention_establish(
            action=action,
            modele=ModeleConvention.objects.first(),
            numero="",
            reference_decision="D",
            date_decision=date(2026, 3, 1),
            user=manager,
        )


def test_only_the_collectivite_s_own_grant_is_conventioned(
    client, manager, signed_contract, porteur, pma, etat
):
    action = ActionFactory(contrat=signed_contract, porteur=porteur, statut=S.NOTIFIE)
    FinancementFactory(action=action, financeur=etat, montant_demande=30000, montant_vote=30000)
    client.force_login(manager)
    establish(client, action, modele=ModeleConvention.objects.first().pk)
    assert not Convention.objects.exists()
    section = conventions.action_section(manager, action)["convention_section"]
    assert "chaque financeur établit ses propres conventions" in section["refus"]
    # The dossier page says it once (the refusal's message shown, a second visit).
    client.get(action.get_absolute_url())
    page = text_of(client.get(action.get_absolute_url()))
    assert page.count("n'a pas voté de subvention pour ce dossier") == 1


# ---------------------------------------------------------------- signatures


def test_signatures_move_the_dossier_to_conventionne(client, manager, dossier):
    client.force_login(manager)
    establish(client, dossier)
    convention = Convention.objects.get(action=dossier)
    response = client.post(reverse("cvu:convention_sign", args=[convention.pk]), sign_data())
    assert response.status_code == 302
    convention.refresh_from_db()
    dossier.refresh_from_db()
    assert convention.statut == Convention.Statut.SIGNEE
    assert convention.date_signature == date(2026, 4, 14)
    assert convention.document_signe.nom == "convention-signee.pdf"
    assert convention.document_signe.action == dossier
    assert dossier.statut == S.CONVENTIONNE
    transition = TransitionStatut.objects.get(action=dossier)
    assert (transition.de, transition.vers, transition.par) == (S.NOTIFIE, S.CONVENTIONNE, manager)
    # Signed: the text no longer changes.
    update = client.get(reverse("cvu:convention_update", args=[convention.pk]))
    assert update.status_code == 302
    page = text_of(client.get(dossier.get_absolute_url()))
    assert "Signée" in page
    # Once signed, changing the signatures is a secondary action.
    assert "Modifier les signatures" in page and "Enregistrer les signatures" not in page


def test_one_signature_only_leaves_the_dossier_notified(client, manager, dossier):
    client.force_login(manager)
    establish(client, dossier)
    convention = Convention.objects.get(action=dossier)
    data = sign_data(date_signature_collectivite="")
    del data["fichier"]
    assert (
        client.post(reverse("cvu:convention_sign", args=[convention.pk]), data).status_code == 302
    )
    dossier.refresh_from_db()
    convention.refresh_from_db()
    assert dossier.statut == S.NOTIFIE
    assert convention.statut == Convention.Statut.ENVOYEE
    assert not TransitionStatut.objects.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"fichier": ""}, "Joignez l'exemplaire signé par les deux parties."),
        (
            {"date_signature_porteur": str(date.today() + timedelta(days=2))},
            "Une date de signature ne peut pas être dans le futur.",
        ),
        (
            {"fichier": SimpleUploadedFile("signee.pdf", b"pas un pdf")},
            "Le contenu du fichier ne correspond pas à son extension .pdf.",
        ),
    ],
)
def test_signatures_refused(client, manager, dossier, extra, message):
    client.force_login(manager)
    establish(client, dossier)
    convention = Convention.objects.get(action=dossier)
    response = client.post(reverse("cvu:convention_sign", args=[convention.pk]), sign_data(**extra))
    assert response.status_code == 400
    assert message in text_of(response)
    dossier.refresh_from_db()
    assert dossier.statut == S.NOTIFIE


# ---------------------------------------------------------------- who may do what


@pytest.mark.parametrize("role", ["editor", "reader"])
def test_chefs_de_projet_and_direction_only_read(client, request, role, manager, dossier):
    client.force_login(manager)
    establish(client, dossier)
    convention = Convention.objects.get(action=dossier)
    before = convention.texte
    client.force_login(request.getfixturevalue(role))
    page = text_of(client.get(dossier.get_absolute_url()))
    assert "Envoyée pour signature" in page
    assert "Établir la convention" not in page and "Enregistrer les signatures" not in page
    posts = [
        (reverse("cvu:convention_create", args=[dossier.pk]), {"modele": convention.modele_id}),
        (
            reverse("cvu:convention_update", args=[convention.pk]),
            {"numero": "X", "reference_decision": "X", "date_decision": "2026-01-01", "texte": "X"},
        ),
        (reverse("cvu:convention_sign", args=[convention.pk]), sign_data()),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    convention.refresh_from_db()
    dossier.refresh_from_db()
    assert convention.texte == before and convention.date_signature_porteur is None
    assert dossier.statut == S.NOTIFIE


@pytest.mark.parametrize("role", ["manager", "admin_user"])
def test_chef_de_service_and_administrator_establish_and_sign(client, request, role, dossier):
    client.force_login(request.getfixturevalue(role))
    page = text_of(client.get(dossier.get_absolute_url()))
    assert "Établir la convention" in page
    assert establish(client, dossier).status_code == 302
    convention = Convention.objects.get(action=dossier)
    response = client.post(reverse("cvu:convention_sign", args=[convention.pk]), sign_data())
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.statut == S.CONVENTIONNE


def test_chef_de_projet_cannot_establish_through_the_service(editor, dossier):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        conventions.convention_establish(
            action=dossier,
            modele=ModeleConvention.objects.first(),
            numero="",
            reference_decision="D",
            date_decision=date(2026, 3, 1),
            user=editor,
        )


def test_pages_of_the_manager_render(client, manager, dossier):
    client.force_login(manager)
    modele = ModeleConvention.objects.get(type="annuelle")
    for url in (
        reverse("cvu:modele_convention_create"),
        reverse("cvu:modele_convention_update", args=[modele.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert "$montant_par_annee" in text_of(response)  # the variables beside the form
    establish(client, dossier)
    convention = Convention.objects.get(action=dossier)
    update = client.get(reverse("cvu:convention_update", args=[convention.pk]))
    assert update.status_code == 200 and "Refaire le texte" in text_of(update)
    sign = client.get(reverse("cvu:convention_sign", args=[convention.pk]))
    assert sign.status_code == 200 and "Exemplaire signé" in text_of(sign)


def test_anonymous_is_sent_to_the_login_page(client, dossier):
    for url in (
        reverse("cvu:modele_convention_list"),
        reverse("cvu:convention_create", args=[dossier.pk]),
    ):
        response = client.get(url)
        assert response["Location"].startswith("/comptes/connexion/?next=")


@pytest.mark.parametrize("other_dossiers", [0, 5])
def test_section_queries_do_not_grow(
    manager, dossier, signed_contract, porteur, pma, etat, other_dossiers, django_assert_num_queries
):
    Convention.objects.create(
        action=dossier,
        annee_debut=2026,
        annee_fin=2026,
        montant=Decimal("24000"),
        texte="Convention",
        auteur=manager,
    )
    for rank in range(other_dossiers):
        make_dossier(
            signed_contract, porteur, pma, etat, votes={2026: Decimal("1000")}, numero=f"N{rank}"
        )
    action = Action.objects.prefetch_related("financements").get(pk=dossier.pk)
    # the contract, its EPCI signatory, the threshold per year, the convention with its documents
    with django_assert_num_queries(4):
        section = conventions.action_section(manager, action)["convention_section"]
    assert section["convention"].montant == Decimal("24000.00")


def test_the_convention_pdf_stays_with_the_dossier(client, manager, dossier):
    client.force_login(manager)
    establish(client, dossier)
    convention = Convention.objects.get(action=dossier)
    page = client.get(dossier.get_absolute_url()).content.decode()
    assert reverse("cvu:document_delete", args=[convention.document_id]) not in page
    response = client.post(reverse("cvu:document_delete", args=[convention.document_id]))
    assert response.status_code == 302
    assert Document.objects.filter(pk=convention.document_id).exists()
    follow = client.get(response["Location"])
    assert "il reste au dossier" in text_of(follow)


def test_the_default_templates_come_back_in_an_emptied_base():
    ModeleConvention.objects.all().delete()  # as `flush` leaves a base
    conventions.ensure_default_modeles()
    conventions.ensure_default_modeles()  # once only
    assert sorted(ModeleConvention.objects.values_list("type", flat=True)) == [
        "annuelle",
        "pluriannuelle",
    ]
