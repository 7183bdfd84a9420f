"""The tables the year's figures are computed from (cvu.figures.Synthese) raise the data's
version when written (core.versions). A migration adding a table to those figures watches it
too: tests/reporting/test_cached_figures.py compares this list with the tables the figures read."""

from django.db import migrations

from core.versions import watch


def first_version(apps, schema_editor):
    apps.get_model("core", "VersionDonnees").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_version_donnees"),
        ("cvu", "0023_financement_amounts_index"),
        ("quartiers", "0005_successeurs"),
    ]

    operations = [
        migrations.RunPython(first_version, migrations.RunPython.noop),
        watch(
            "cvu_action",
            "cvu_action_objectifs",
            "cvu_action_qpvs",
            "cvu_financement",
            "cvu_noeudstrategie",
            "cvu_enveloppe",
            "cvu_appelaprojets",
            "cvu_organisation",
            "cvu_lignefinancement",
            "cvu_bilan",
            "cvu_beneficiairesqpv",
            "quartiers_qpv",
            "quartiers_qpv_communes",
            "quartiers_commune",
        ),
    ]
