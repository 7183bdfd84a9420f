"""Issue #19, backups: `sauvegarder` then `restaurer` into a new database and a new storage gives
back every row and every file; a restore refuses a non-empty instance and a foreign file."""

import io
import json
import tarfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from core.backups import backup
from cvu.models import Action, Document, Financement, Organisation
from tests.comptes.factories import UserFactory
from tests.cvu.factories import ActionFactory, FinancementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media-ancienne"
    user = UserFactory(email="service@exemple.fr", role="chef_service")
    action = ActionFactory(titre="Atelier d'écriture", referent=None)
    FinancementFactory(action=action)
    document = Document(action=action, nom="budget.pdf", content_type="application/pdf", taille=9)
    document.fichier.save("budget.pdf", ContentFile(b"%PDF-1.7\n"), save=False)
    document.save()
    return {"user": user, "action": action, "document": document}


@pytest.mark.django_db(transaction=True)  # flush and loaddata work outside a test transaction
def test_backup_then_restore_into_a_new_database_and_storage(data, tmp_path, settings):
    call_command("sauvegarder", dossier=str(tmp_path / "sauvegardes"), stdout=io.StringIO())
    [archive] = (tmp_path / "sauvegardes").glob("sauvegarde-pilotage-cvu-*.tar.gz")
    counts = {
        model: model.objects.count() for model in (Action, Financement, Organisation, Document)
    }
    history = Action.history.count()
    path = data["document"].fichier.name

    # A new instance: empty database, empty storage.
    call_command("flush", interactive=False, verbosity=0)
    settings.MEDIA_ROOT = tmp_path / "media-nouvelle"
    assert not default_storage.exists(path)

    out = io.StringIO()
    call_command("restaurer", str(archive), stdout=out)

    assert "Restauration vérifiée" in out.getvalue()
    assert {model: model.objects.count() for model in counts} == counts
    assert Action.history.count() == history
    restored = Action.objects.get(titre="Atelier d'écriture")
    assert restored.pk == data["action"].pk
    assert (
        restored.financements.get().montant_demande
        == data["action"].financements.get().montant_demande
    )
    with default_storage.open(path, "rb") as source:
        assert source.read() == b"%PDF-1.7\n"
    assert restored.documents.get().action.contrat_id == data["action"].contrat_id
    # A new row takes a fresh key: the sequences follow the restored rows.
    assert ActionFactory().pk > data["action"].pk


def test_restore_refuses_an_instance_that_already_has_accounts(data, tmp_path):
    archive = backup(tmp_path / "sauvegardes")
    with pytest.raises(CommandError, match="contient déjà des données"):
        call_command("restaurer", str(archive))


def test_restore_refuses_a_file_that_is_not_a_backup(db, tmp_path):
    foreign = tmp_path / "autre.tar.gz"
    with tarfile.open(foreign, "w:gz") as archive:
        data = json.dumps({"rien": 1}).encode()
        info = tarfile.TarInfo("base.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    with pytest.raises(CommandError, match="pas une sauvegarde de Pilotage CVU"):
        call_command("restaurer", str(foreign))
