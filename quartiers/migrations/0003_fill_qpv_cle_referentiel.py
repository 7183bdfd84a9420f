from django.db import migrations


def fill(apps, schema_editor):
    Qpv = apps.get_model("quartiers", "Qpv")
    for qpv in Qpv.objects.filter(cle_referentiel=""):
        qpv.cle_referentiel = f"{qpv.geographie}:{qpv.nom}"
        qpv.save(update_fields=["cle_referentiel"])


class Migration(migrations.Migration):
    dependencies = [("quartiers", "0002_qpv_cle_referentiel")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
