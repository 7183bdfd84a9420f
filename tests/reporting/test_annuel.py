"""The rapport annuel politique de la ville: built from the demo data, its legal sections, its
figures (those of the dashboard), the consultation's one-month rule, approval and rights."""

import subprocess
from datetime import date
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.templatetags.formats import euros
from cvu.models import ContratDeVille
from participation.models import ConseilCitoyen
from reporting import annuel, rapports
from reporting.dashboard import Scope, dashboard
from reporting.models import ChapitreRapport, Consultation, Rapport, RapportAnnuel
from tests.editable_checks import assert_same_text, docx_parts

pytestmark = pytest.mark.django_db


def _pdf_text(content: bytes) -> str:
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def _flat(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("load_territoire", stdout=StringIO())
    call_command("seed_demo", "--force", stdout=StringIO())
    return ContratDeVille.objects.get(annee_debut=2024)


def _cdp_with_commune(contrat):
    """A chef de projet of the demo and one of their communes in the contract."""
    for commune in annuel.communes_du_contrat(contrat).select_related("secteur__chef_projet"):
        if commune.secteur and commune.secteur.chef_projet:
            return commune.secteur.chef_projet, commune
    raise AssertionError("pas de chef de projet dans la démo")


def test_on_the_demo_the_2025_report_has_every_section_the_dashboard_figures_and_the_opinions(
    client, demo, manager, reader
):
    contrat = demo
    communes = list(annuel.communes_du_contrat(contrat))
    # The demo has its 2025 report under consultation; it is made again here from the start.
    seeded = RapportAnnuel.objects.get(contrat=contrat, annee=2025)
    assert seeded.etape == "consultation" and seeded.chapitres.exclude(texte="").exists()
    seeded.delete()
    client.force_login(manager)
    response = client.post(
        reverse("reporting:annuel_create") + f"?contrat={contrat.pk}",
        {"annee": "2025", "communes_dsu": [communes[0].pk]},
    )
    rapport = RapportAnnuel.objects.get(contrat=contrat, annee=2025)
    assert response.status_code == 302 and response.url == rapport.get_absolute_url()
    assert rapport.chapitres.filter(type="commune").count() == len(communes)
    assert rapport.chapitres.filter(type="dsu", commune=communes[0]).exists()

    # A chef de projet writes their commune's chapter, with formatting.
    cdp, commune = _cdp_with_commune(contrat)
    chapitre = rapport.chapitres.get(type="commune", commune=commune)
    client.force_login(cdp)
    response = client.post(
        reverse("reporting:annuel_chapitre", args=[chapitre.pk]),
        {
            "texte": "La commune a **renforcé** le soutien scolaire.\n\n- Clubs de lecture\n- Ateliers"
        },
    )
    assert response.status_code == 302

    # The service records a council's opinion (signatories not public) and a silent council.
    client.force_login(manager)
    conseil = ConseilCitoyen.objects.filter(commune__in=communes).first()
    response = client.post(
        reverse("reporting:annuel_consultation_create", args=[rapport.pk]),
        {
            "conseil_citoyen": conseil.pk,
            "envoye_le": "2026-01-12",
            "echeance": "2026-02-12",
            "avis": "observations",
            "avis_recu_le": "2026-02-03",
            "texte": "Le conseil demande davantage d'actions pour les jeunes filles.",
            "signataires": "Jeanne Confidentielle",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    client.post(
        reverse("reporting:annuel_consultation_create", args=[rapport.pk]),
        {"commune": communes[1].pk, "envoye_le": "2026-01-12", "echeance": "2026-02-12"},
    )
    assert rapport.consultations.count() == 2
    consultation = rapport.consultations.get(conseil_citoyen=conseil)
    # Approval waits for every chapter: the others are written by the service here.
    rapport.chapitres.filter(texte="").update(texte="Chapitre rédigé par le service.")
    response = client.post(
        reverse("reporting:annuel_approuver", args=[rapport.pk]),
        {
            "date_approbation": "2026-03-05",
            "numero_deliberation": "C-2026-042",
            f"suite_{consultation.pk}": "Un appel à projets jeunesse sera ouvert en 2026.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]

    response = client.post(reverse("reporting:annuel_produire", args=[rapport.pk]))
    version = Rapport.objects.get(type="annuel")
    assert response.url == version.get_absolute_url()
    assert rapports.build_report(version.pk) == "pret", version.erreur
    version.refresh_from_db()
    with version.fichier.open("rb") as pdf_file, version.modifiable.open("rb") as docx_file:
        pdf, docx = pdf_file.read(), docx_file.read()
    text = _pdf_text(pdf)
    body = _flat(docx_parts(docx)[0])
    assert_same_text(pdf, docx)

    # Every legal section, in the PDF and in the editable document.
    for _, title in annuel.SECTIONS:
        assert title in text and title in body, title
    assert "Sommaire" in text
    # Amounts per priority (axe) and the year's totals: those of the dashboard, to the cent.
    board = dashboard(Scope(contrat=contrat, annee=2025))
    axes = next(s for s in board["sections"] if s.key == "axes")
    assert axes.rows and any(row.values["vote"] for row in axes.rows)
    for row in axes.rows:
        line = f"{row.label} {euros(row.values['demande'])} {euros(row.values['vote'])}"
        assert _flat(line) in text and _flat(line) in body, line
    assert _flat(euros(board["totals"]["vote"])) in text
    # The chapter, the opinion and its follow-up are in; the signatory is not.
    for words in (
        "La commune a renforcé le soutien scolaire.",
        "Clubs de lecture",
        "Le conseil demande davantage d'actions pour les jeunes filles.",
        "Un appel à projets jeunesse sera ouvert en 2026.",
        "Favorable avec observations",
        f"Conseil municipal de {communes[1].nom}",
        "Réputé favorable (pas de réponse au 12/02/2026)",
        "délibération n° C-2026-042",
    ):
        assert words in text and words in body, words
    assert "Confidentielle" not in text and "Confidentielle" not in body

    # The direction downloads both files.
    client.force_login(reader)
    page = client.get(rapport.get_absolute_url()).content.decode()
    assert reverse("reporting:rapport_modifiable", args=[version.pk]) in page
    for name in ("rapport_download", "rapport_modifiable"):
        response = client.get(reverse(f"reporting:{name}", args=[version.pk]))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == (pdf if name == "rapport_download" else docx)


def test_signatories_appear_only_when_marked_public(manager, data, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rapport = annuel.demarrer(contrat=data["contrat"], annee=2026, communes_dsu=[], user=manager)
    conseil = ConseilCitoyen.objects.create(
        nom="Conseil citoyen des Buis", commune=data["communes"][0], type=_type_participation()
    )
    Consultation.objects.create(
        rapport=rapport,
        conseil_citoyen=conseil,
        envoye_le=date(2026, 1, 5),
        echeance=date(2026, 2, 5),
        avis="favorable",
        avis_recu_le=date(2026, 1, 20),
        signataires="Paul Publiable",
        signataires_publics=True,
    )
    html = _render(rapport)
    assert "Paul Publiable" in html
    Consultation.objects.update(signataires_publics=False)
    assert "Paul Publiable" not in _render(rapport)


def _type_participation():
    from participation.models import TypeParticipation

    return TypeParticipation.objects.get_or_create(nom="Conseil citoyen")[0]


def _render(rapport) -> str:
    from django.template.loader import render_to_string

    context = annuel.annuel_context({"rapport_annuel": rapport.pk})
    return render_to_string(
        "pdf/rapport_annuel.html", {**context, "produit_le": timezone.localtime()}
    )


# ---------------------------------------------------------------- the one-month rule


@pytest.mark.parametrize(
    ("envoye_le", "echeance", "valid"),
    [
        (date(2026, 1, 12), date(2026, 2, 11), False),
        (date(2026, 1, 12), date(2026, 2, 12), True),
        (date(2026, 1, 31), date(2026, 2, 27), False),
        (date(2026, 1, 31), date(2026, 2, 28), True),  # one calendar month
    ],
)
def test_a_council_has_at_least_one_month(envoye_le, echeance, valid):
    consultation = Consultation(envoye_le=envoye_le, echeance=echeance)
    if valid:
        consultation.clean()
    else:
        with pytest.raises(ValidationError) as error:
            consultation.clean()
        assert "au moins un mois" in str(error.value)


@pytest.mark.parametrize(
    ("jour", "etat"),
    [
        (date(2026, 2, 11), "en_attente"),
        (date(2026, 2, 12), "en_attente"),  # the deadline day is still the council's
        (date(2026, 2, 13), "repute_favorable"),
    ],
)
def test_silence_after_the_deadline_is_a_favourable_opinion(jour, etat):
    consultation = Consultation(envoye_le=date(2026, 1, 12), echeance=date(2026, 2, 12))
    assert consultation.avis_au(jour)[0] == etat


def test_a_received_opinion_stays_what_it_says(manager):
    consultation = Consultation(
        envoye_le=date(2026, 1, 12),
        echeance=date(2026, 2, 12),
        avis="defavorable",
        avis_recu_le=date(2026, 2, 20),
    )
    code, label = consultation.avis_au(date(2026, 3, 1))
    assert code == "defavorable" and "reçu après l'échéance du 12/02/2026" in label


def _report_with_consultation(data, manager, **fields):
    """A report whose chapters are written, sent to a conseil municipal (with `fields`) and to
    a conseil citoyen that answered favourably."""
    rapport = annuel.demarrer(contrat=data["contrat"], annee=2026, communes_dsu=[], user=manager)
    rapport.chapitres.update(texte="Rédigé.")
    consultation = Consultation.objects.create(
        rapport=rapport,
        commune=data["communes"][0],
        envoye_le=date(2026, 1, 12),
        echeance=date(2026, 2, 12),
        **fields,
    )
    Consultation.objects.create(
        rapport=rapport,
        conseil_citoyen=ConseilCitoyen.objects.create(
            nom="Conseil citoyen des Buis", commune=data["communes"][0], type=_type_participation()
        ),
        envoye_le=date(2026, 1, 5),
        echeance=date(2026, 2, 5),
        avis="favorable",
        avis_recu_le=date(2026, 1, 20),
    )
    return rapport, consultation


def _approve(rapport, manager, day, suites=None, numero="C-1"):
    annuel.approuver(
        rapport=rapport,
        date_approbation=day,
        numero_deliberation=numero,
        suites=suites or {},
        user=manager,
    )


def test_approval_waits_for_the_deadline_and_answers_observations(data, manager):
    rapport, consultation = _report_with_consultation(data, manager)
    with pytest.raises(ValidationError) as error:
        _approve(rapport, manager, date(2026, 2, 12))
    assert "a jusqu'au 12/02/2026" in str(error.value)
    consultation.avis, consultation.avis_recu_le = "observations", date(2026, 2, 1)
    consultation.save()
    with pytest.raises(ValidationError) as error:
        _approve(rapport, manager, date(2026, 2, 12))
    assert "suite donnée aux observations" in str(error.value)
    _approve(rapport, manager, date(2026, 2, 12), {consultation.pk: "Retenu."})
    rapport.refresh_from_db()
    assert rapport.etape == "approuve"
    # Approved: the text is frozen, for everyone.
    assert not annuel.chapitres_editables(manager, rapport).exists()
    with pytest.raises(ValidationError):
        annuel.publier(rapport=rapport, publie_le=date(2026, 2, 1), lieu="", user=manager)
    annuel.publier(rapport=rapport, publie_le=date(2026, 3, 1), lieu="pma.fr", user=manager)
    rapport.refresh_from_db()
    assert rapport.etape == "publie"


def test_an_opinion_counts_from_the_day_it_was_received(data, manager):
    """An approval dated before the opinion arrived (or before the draft was sent) is refused:
    on that day the council still had time to answer."""
    rapport, consultation = _report_with_consultation(
        data, manager, avis="favorable", avis_recu_le=date(2026, 2, 3)
    )
    assert consultation.avis_au(date(2026, 2, 2))[0] == "en_attente"
    assert consultation.avis_au(date(2026, 2, 3))[0] == "favorable"
    with pytest.raises(ValidationError) as error:
        _approve(rapport, manager, date(2026, 1, 1))
    assert "après la date d'approbation" in str(error.value)
    with pytest.raises(ValidationError, match="a jusqu'au 12/02/2026"):
        _approve(rapport, manager, date(2026, 2, 2))
    _approve(rapport, manager, date(2026, 2, 3))


def test_approval_waits_for_every_chapter_and_both_kinds_of_council(data, manager):
    rapport, _ = _report_with_consultation(
        data, manager, avis="favorable", avis_recu_le=date(2026, 2, 3)
    )
    chapitre = rapport.chapitres.get(type="coordination")
    chapitre.texte = ""
    chapitre.save()
    rapport.consultations.filter(conseil_citoyen__isnull=False).delete()
    with pytest.raises(ValidationError) as error:
        _approve(rapport, manager, date(2026, 3, 1))
    assert "Chapitres du service à rédiger : Coordination des acteurs." in str(error.value)
    assert "Aucun conseil citoyen consulté." in str(error.value)
    rapport.refresh_from_db()
    assert not rapport.approuve


def test_approval_needs_a_consultation(data, manager):
    rapport = annuel.demarrer(contrat=data["contrat"], annee=2026, communes_dsu=[], user=manager)
    rapport.chapitres.update(texte="Rédigé.")
    with pytest.raises(ValidationError, match="Aucun conseil municipal consulté"):
        _approve(rapport, manager, date(2026, 3, 1))


# ---------------------------------------------------------------- rights


def test_rights_by_role(client, data, manager, editor, reader, outsider):
    """The chef de service manages; a chef de projet writes their communes' chapters only; the
    direction and the others read."""
    rapport = annuel.demarrer(contrat=data["contrat"], annee=2026, communes_dsu=[], user=manager)
    own = rapport.chapitres.get(type="commune", commune=data["communes"][0])
    service = rapport.chapitres.get(type="perspectives")
    assert set(annuel.chapitres_editables(editor, rapport)) == {own}
    assert not annuel.chapitres_editables(reader, rapport).exists()
    assert annuel.chapitres_editables(manager, rapport).count() == rapport.chapitres.count()
    for user, chapitre, allowed in [
        (editor, own, True),
        (editor, service, False),
        (reader, own, False),
        (outsider, own, False),
        (manager, service, True),
    ]:
        client.force_login(user)
        url = reverse("reporting:annuel_chapitre", args=[chapitre.pk])
        response = client.post(url, {"texte": f"Texte de {user.email}"})
        assert (response.status_code == 302) is allowed, (user.email, chapitre.type)
        chapitre.refresh_from_db()
        assert (chapitre.texte == f"Texte de {user.email}") is allowed
    # The service's steps: the chef de service only.
    for user in (editor, reader, outsider):
        client.force_login(user)
        for name in (
            "annuel_consultation_create",
            "annuel_approuver",
            "annuel_publier",
            "annuel_produire",
            "annuel_dsu",
        ):
            response = client.post(reverse(f"reporting:{name}", args=[rapport.pk]), {})
            assert response.status_code in (403, 404), (user.email, name)
        assert client.get(reverse("reporting:annuel_create")).status_code == 403
        with pytest.raises(PermissionDenied):
            annuel.chapitre_save(chapitre=service, texte="x", user=user)
    assert not Rapport.objects.filter(type="annuel").exists()
    assert not rapport.consultations.exists()


def test_every_user_reads_the_report_page(client, data, manager, editor, reader):
    rapport = annuel.demarrer(contrat=data["contrat"], annee=2026, communes_dsu=[], user=manager)
    for user in (manager, editor, reader):
        client.force_login(user)
        page = client.get(rapport.get_absolute_url())
        assert page.status_code == 200
        assert "Sections obligatoires" in page.content.decode()
        managed = "Enregistrer l'approbation" in page.content.decode()
        assert managed is (user == manager)


def test_a_dsu_commune_gets_its_chapter_and_loses_it_only_when_empty(data, manager):
    rapport = annuel.demarrer(contrat=data["contrat"], annee=2026, communes_dsu=[], user=manager)
    commune = data["communes"][0]
    annuel.communes_dsu_save(rapport=rapport, communes=[commune], user=manager)
    chapitre = rapport.chapitres.get(type="dsu", commune=commune)
    annuel.chapitre_save(chapitre=chapitre, texte="Emploi de la DSU.", user=manager)
    annuel.communes_dsu_save(rapport=rapport, communes=[], user=manager)
    assert rapport.chapitres.filter(type="dsu").exists()  # kept: it holds text
    annuel.chapitre_save(chapitre=chapitre, texte="", user=manager)
    annuel.communes_dsu_save(rapport=rapport, communes=[], user=manager)
    assert not rapport.chapitres.filter(type="dsu").exists()
    assert ChapitreRapport.objects.filter(rapport=rapport, type="commune").exists()


def test_versions_are_kept_by_the_purge(data, manager, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rapport = annuel.demarrer(contrat=data["contrat"], annee=2026, communes_dsu=[], user=manager)
    version = annuel.produire(rapport=rapport, user=manager)
    assert rapports.build_report(version.pk) == "pret"
    rapports.purge(days=-1)
    assert Rapport.objects.filter(pk=version.pk).exists()
    assert list(annuel.versions(rapport)) == [version]


# ---------------------------------------------------------------- the pages of each step


def test_the_step_pages_save_or_show_the_refusal(client, data, manager, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    rapport, consultation = _report_with_consultation(data, manager)
    client.force_login(manager)
    commune = data["communes"][0]
    response = client.post(
        reverse("reporting:annuel_dsu", args=[rapport.pk]), {"communes_dsu": [commune.pk]}
    )
    assert response.status_code == 302
    assert rapport.chapitres.filter(type="dsu", commune=commune).exists()

    # An opinion file is checked by its content; a good one is kept for the chef de service.
    url = reverse("reporting:annuel_consultation_update", args=[consultation.pk])
    fields = {
        "commune": commune.pk,
        "envoye_le": "2026-01-12",
        "echeance": "2026-02-12",
        "avis": "favorable",
        "avis_recu_le": "2026-02-01",
    }
    fake = SimpleUploadedFile("avis.pdf", b"MZ not a pdf", content_type="application/pdf")
    response = client.post(url, {**fields, "fichier": fake})
    assert response.status_code == 400
    assert "ne correspond pas à son extension .pdf" in response.content.decode()
    pdf = SimpleUploadedFile("avis.pdf", b"%PDF-1.7 avis", content_type="application/pdf")
    assert client.post(url, {**fields, "fichier": pdf}).status_code == 302
    consultation.refresh_from_db()
    download = reverse("reporting:annuel_consultation_fichier", args=[consultation.pk])
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 avis"

    # A deadline under one month is refused on the form.
    response = client.post(url, {**fields, "echeance": "2026-02-11"})
    assert response.status_code == 400 and "au moins un mois" in response.content.decode()

    # Publication before approval: refused with the reason.
    response = client.post(
        reverse("reporting:annuel_publier", args=[rapport.pk]), {"publie_le": "2026-03-01"}
    )
    assert response.status_code == 400
    assert "une fois approuvé par le conseil communautaire" in response.content.decode()
    # Approval (the DSU chapter added above written first), then publication.
    rapport.chapitres.update(texte="Rédigé.")
    response = client.post(
        reverse("reporting:annuel_approuver", args=[rapport.pk]),
        {"date_approbation": "2026-03-01", "numero_deliberation": "C-9"},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("reporting:annuel_publier", args=[rapport.pk]),
        {"publie_le": "2026-03-10", "lieu": "https://www.agglo-montbeliard.fr"},
    )
    assert response.status_code == 302
    rapport.refresh_from_db()
    assert (rapport.etape, rapport.lieu_publication) == (
        "publie",
        "https://www.agglo-montbeliard.fr",
    )
    # Approved: consultations no longer change, and the files stay the service's.
    assert client.post(url, fields).status_code == 403


def test_the_opinion_file_and_the_consultation_are_the_chef_de_service_s(
    client, data, manager, editor, reader
):
    rapport, consultation = _report_with_consultation(data, manager)
    for user in (editor, reader):
        client.force_login(user)
        for name in (
            "annuel_consultation_update",
            "annuel_consultation_delete",
            "annuel_consultation_fichier",
        ):
            url = reverse(f"reporting:{name}", args=[consultation.pk])
            assert client.get(url).status_code == 403, (user.email, name)
        assert (
            client.post(
                reverse("reporting:annuel_consultation_delete", args=[consultation.pk])
            ).status_code
            == 403
        )
    client.force_login(manager)
    url = reverse("reporting:annuel_consultation_delete", args=[consultation.pk])
    assert "sera supprimée" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert not Consultation.objects.filter(pk=consultation.pk).exists()
