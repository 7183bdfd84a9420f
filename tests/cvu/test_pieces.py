"""The porteur's administrative pieces: which are owed, their validity, where the gaps show
(porteur page, dossier page, committee), and who may upload, download and delete them."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cvu import pieces
from cvu.models import Organisation, PieceOrganisation
from tests.cvu.aap_factories import ComiteFactory
from tests.cvu.factories import ActionFactory, OrganisationFactory

T = PieceOrganisation.Type
ALL_ASSOCIATION_TYPES = [T.STATUTS, T.RIB, T.COMPTES, T.DIRIGEANTS, T.CER]
PDF = b"%PDF-1.7 contenu"


def _piece(organisation, type, *, date_piece=date(2025, 1, 10), date_expiration=None, nom=None):
    return PieceOrganisation.objects.create(
        organisation=organisation,
        type=type,
        fichier=f"documents/organisations/{organisation.pk}/{type}.pdf",
        nom=nom or f"{type}.pdf",
        content_type="application/pdf",
        taille=len(PDF),
        date_piece=date_piece,
        date_expiration=date_expiration,
    )


def _complete(organisation, *, except_=()):
    for type in ALL_ASSOCIATION_TYPES:
        if type not in except_:
            _piece(organisation, type)


@pytest.fixture
def asso(db):
    return OrganisationFactory(nom="Les Jardins partagés", type=Organisation.Type.ASSOCIATION)


@pytest.fixture
def asso_cer_expired(asso):
    _complete(asso, except_=[T.CER])
    _piece(asso, T.CER, date_piece=date(2025, 2, 1), date_expiration=date(2025, 12, 31))
    return asso


# ---------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("type", "expected"),
    [
        ("association", {"statuts", "rib", "comptes", "dirigeants", "cer"}),
        ("bailleur", {"statuts", "rib", "comptes"}),
        ("autre", {"statuts", "rib", "comptes"}),
        ("commune", {"rib"}),
        ("etat", {"rib"}),
        ("epci", {"rib"}),
        ("france_travail", {"rib"}),
        ("etablissement_public", {"rib"}),
    ],
)
def test_required_pieces_follow_the_organisation_type(type, expected):
    assert set(pieces.required_types(type)) == expected


def test_missing_cer_is_flagged_for_an_association_not_for_a_commune(
    asso, django_assert_num_queries
):
    _complete(asso, except_=[T.CER])
    commune = OrganisationFactory(nom="Ville d'Audincourt", type=Organisation.Type.COMMUNE)
    _piece(commune, T.RIB)
    with django_assert_num_queries(1):
        problems = pieces.problems_for([asso.pk, commune.pk], date(2026, 3, 1))
    assert problems == {asso.pk: ["CER manquant"], commune.pk: []}


def test_the_latest_piece_decides_and_older_ones_do_not_count(asso):
    _complete(asso, except_=[T.RIB])
    _piece(asso, T.RIB, date_piece=date(2020, 1, 1), date_expiration=None)
    _piece(asso, T.RIB, date_piece=date(2024, 1, 1), date_expiration=date(2024, 12, 31))
    statuses = {s.type: s for s in pieces.status(asso, date(2026, 1, 5))}
    assert statuses[T.RIB].text == "expirée le 31/12/2024"
    assert pieces.problems_for([asso.pk], date(2026, 1, 5))[asso.pk] == ["RIB expiré le 31/12/2024"]
    _piece(asso, T.RIB, date_piece=date(2025, 6, 1))
    assert pieces.problems_for([asso.pk], date(2026, 1, 5))[asso.pk] == []


def test_status_lists_each_required_type_with_its_state(asso):
    _piece(asso, T.STATUTS)
    _piece(asso, T.COMPTES, date_piece=date(2024, 12, 31), date_expiration=date(2025, 12, 31))
    states = [(s.label, s.text) for s in pieces.status(asso, date(2025, 12, 31))]
    assert states == [
        ("Statuts", "valide"),
        ("RIB", "manquante"),
        ("Comptes approuvés N-1", "valide"),  # valid through its last day
        ("Liste des dirigeants", "manquante"),
        ("Contrat d'engagement républicain", "manquante"),
    ]


@pytest.mark.parametrize(
    ("type", "date_piece", "expected"),
    [
        (T.COMPTES, date(2024, 12, 31), date(2025, 12, 31)),
        (T.DIRIGEANTS, date(2025, 3, 15), date(2026, 3, 14)),
        (T.CER, date(2025, 3, 15), date(2025, 12, 31)),
        (T.STATUTS, date(2025, 3, 15), None),
        (T.RIB, date(2025, 3, 15), None),
    ],
)
def test_default_expiry_per_type(type, date_piece, expected):
    assert pieces.default_expiry(type, date_piece) == expected


# ---------------------------------------------------------------- where gaps show


def test_expired_cer_is_flagged_on_the_committee(client, manager, appel, asso_cer_expired):
    flagged = ActionFactory(contrat=appel.contrat, appel=appel, porteur=asso_cer_expired)
    complete = OrganisationFactory(nom="Régie de quartier")
    _complete(complete)
    fine = ActionFactory(contrat=appel.contrat, appel=appel, porteur=complete)
    comite = ComiteFactory(appel=appel)
    comite.dossiers.set([flagged, fine])
    client.force_login(manager)
    page = client.get(comite.get_absolute_url() + "?filtre=tous").content.decode()
    row_of = {
        pk: page.split(f'data-dossier="{pk}"')[1].split("</tr>")[0] for pk in (flagged.pk, fine.pk)
    }
    assert "CER expiré le 31/12/2025" in row_of[flagged.pk]
    assert "data-piece-probleme" not in row_of[fine.pk]


def test_committee_sums_up_several_gaps_and_spares_decided_dossiers(client, manager, appel):
    bare = OrganisationFactory(nom="Association sans pièces", type=Organisation.Type.ASSOCIATION)
    pending = ActionFactory(contrat=appel.contrat, appel=appel, porteur=bare)
    decided = ActionFactory(contrat=appel.contrat, appel=appel, porteur=bare, statut="notifie")
    comite = ComiteFactory(appel=appel)
    comite.dossiers.set([pending, decided])
    client.force_login(manager)
    page = client.get(comite.get_absolute_url() + "?filtre=tous").content.decode()
    row_of = {
        pk: page.split(f'data-dossier="{pk}"')[1].split("</tr>")[0]
        for pk in (pending.pk, decided.pk)
    }
    # One badge for the five gaps, each of them listed in words under it.
    assert row_of[pending.pk].count('class="badge text-bg-warning"') == 1
    assert "5 pièces à régulariser" in row_of[pending.pk]
    assert "<li>CER manquant</li>" in row_of[pending.pk]
    assert "data-piece-probleme" not in row_of[decided.pk]


def test_expired_cer_is_flagged_on_the_dossier_page(client, editor, action):
    porteur = action.porteur
    _complete(porteur, except_=[T.CER])
    _piece(porteur, T.CER, date_piece=date(2025, 2, 1), date_expiration=date(2025, 12, 31))
    client.force_login(editor)
    response = client.get(action.get_absolute_url())
    assert response.status_code == 200
    content = response.content.decode()
    assert "<li>CER expiré le 31/12/2025</li>" in content
    assert f'href="{porteur.get_absolute_url()}#pieces"' in content


def test_dossier_page_says_nothing_when_the_file_is_complete(client, editor, action):
    _complete(action.porteur)
    client.force_login(editor)
    content = client.get(action.get_absolute_url()).content.decode()
    assert "Pièces administratives du porteur" not in content


def test_porteur_page_shows_the_status_table_and_older_versions(client, reader, asso):
    _piece(asso, T.RIB, date_piece=date(2019, 5, 1), nom="rib-ancien.pdf")
    _piece(asso, T.RIB, date_piece=date(2025, 5, 1), nom="rib-2025.pdf")
    client.force_login(reader)
    response = client.get(asso.get_absolute_url())
    content = response.content.decode()
    assert 'id="pieces"' in content
    assert "rib-ancien.pdf" in content and "rib-2025.pdf" in content
    assert content.count("manquante") == 4  # statuts, comptes, dirigeants, CER
    # The direction reads: no upload form, no delete link.
    assert "Ajouter la pièce" not in content and "supprimer" not in content


# ---------------------------------------------------------------- upload, download, delete


def _upload(client, organisation, name="comptes-2024.pdf", content=PDF, **data):
    fields = {"type": "comptes", "date_piece": "2024-12-31", "date_expiration": ""}
    fields.update(data)
    return client.post(
        f"/organisations/{organisation.pk}/pieces/",
        {**fields, "fichier": SimpleUploadedFile(name, content)},
        follow=True,
    )


def test_chef_de_projet_uploads_a_piece_with_its_default_expiry(
    client, editor, asso, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(editor)
    response = _upload(client, asso)
    assert "Pièce « Comptes approuvés N-1 » ajoutée" in response.content.decode()
    piece = PieceOrganisation.objects.get()
    assert (piece.organisation, piece.nom, piece.uploaded_by) == (asso, "comptes-2024.pdf", editor)
    assert piece.date_expiration == date(2025, 12, 31)
    assert piece.content_type == "application/pdf"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("script.exe", b"MZ", "Ce type de fichier n&#x27;est pas accepté"),
        ("faux.pdf", b"<html>", "Le contenu du fichier ne correspond pas à son extension .pdf."),
    ],
)
def test_bad_file_type_is_refused_and_nothing_saved(
    client, editor, asso, settings, tmp_path, name, content, message
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(editor)
    response = _upload(client, asso, name=name, content=content)
    assert message in response.content.decode()
    assert not PieceOrganisation.objects.exists()
    assert not any(tmp_path.rglob("*.*"))


def test_oversized_piece_is_refused_and_nothing_saved(client, editor, asso, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.DOCUMENT_MAX_SIZE = 10
    client.force_login(editor)
    response = _upload(client, asso, content=b"%PDF-" + b"x" * 100)
    assert "la limite est de" in response.content.decode()
    assert not PieceOrganisation.objects.exists()


def test_expiry_before_the_piece_date_is_refused(client, editor, asso, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(editor)
    response = _upload(client, asso, date_expiration="2020-01-01")
    assert "La fin de validité précède la date de la pièce." in response.content.decode()
    assert not PieceOrganisation.objects.exists()


def test_download_streams_the_file_to_users_and_refuses_anonymous(
    client, editor, reader, asso, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(editor)
    _upload(client, asso)
    piece = PieceOrganisation.objects.get()
    client.force_login(reader)
    response = client.get(f"/organisations/pieces/{piece.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    anonymous = Client().get(f"/organisations/pieces/{piece.pk}/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("comptes:login"))


def test_direction_can_neither_upload_nor_delete(client, reader, asso, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    piece = _piece(asso, T.RIB)
    client.force_login(reader)
    assert (
        client.post(
            f"/organisations/{asso.pk}/pieces/",
            {
                "type": "rib",
                "date_piece": "2025-01-01",
                "fichier": SimpleUploadedFile("r.pdf", PDF),
            },
        ).status_code
        == 403
    )
    assert client.get(f"/organisations/pieces/{piece.pk}/supprimer/").status_code == 403
    assert client.post(f"/organisations/pieces/{piece.pk}/supprimer/").status_code == 403
    assert PieceOrganisation.objects.count() == 1


def test_any_chef_de_projet_deletes_after_confirmation(client, outsider, asso, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(outsider)  # organisations, and so their pieces, are shared
    _upload(client, asso)
    piece = PieceOrganisation.objects.get()
    stored = tmp_path / piece.fichier.name
    assert stored.exists()
    page = client.get(f"/organisations/pieces/{piece.pk}/supprimer/")
    assert "sera supprimée définitivement" in page.content.decode()
    assert PieceOrganisation.objects.exists()
    response = client.post(f"/organisations/pieces/{piece.pk}/supprimer/")
    assert response.status_code == 302 and response["Location"].endswith("#pieces")
    assert not PieceOrganisation.objects.exists()
    assert not stored.exists()


def test_piece_of_an_unknown_id_is_404(client, editor):
    client.force_login(editor)
    assert client.get("/organisations/pieces/999/").status_code == 404


def test_chef_de_projet_sees_the_upload_form_and_delete_links(client, editor, asso):
    piece = _piece(asso, T.STATUTS)
    client.force_login(editor)
    content = client.get(asso.get_absolute_url()).content.decode()
    assert f'action="/organisations/{asso.pk}/pieces/"' in content
    assert 'enctype="multipart/form-data"' in content
    assert f'href="/organisations/pieces/{piece.pk}/supprimer/"' in content
    assert "comptes N-1 → 31 décembre de l'année suivant l'exercice" in content
