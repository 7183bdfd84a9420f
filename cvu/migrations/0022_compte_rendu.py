"""The meetings' comptes rendus move onto the one generated-file model (reporting.Rapport, type
« compte_rendu »): each meeting's built PDF and .docx become a ready version pointing to the same
stored files, then the meeting's own status fields go."""

from django.db import migrations
from django.db.models import Q


def to_rapports(apps, schema_editor):
    Reunion = apps.get_model("cvu", "Reunion")
    Rapport = apps.get_model("reporting", "Rapport")
    User = apps.get_model("comptes", "User")
    fallback = (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(role="chef_service"))
        .order_by("pk")
        .first()
    )
    for reunion in Reunion.objects.exclude(cr_pdf="").select_related("instance"):
        demande_par = reunion.created_by or fallback
        if demande_par is None:  # no user to attach it to: the next build makes a new one
            continue
        rapport = Rapport.objects.create(
            type="compte_rendu",
            titre=f"Compte rendu – {reunion.titre or reunion.instance.nom}",
            parametres={"reunion": reunion.pk},
            statut="pret",
            demande_par=demande_par,
            reunion=reunion,
            fichier=reunion.cr_pdf.name,
            modifiable=reunion.cr_docx.name,
            started_at=reunion.cr_pdf_le,
            finished_at=reunion.cr_pdf_le,
        )
        if reunion.cr_pdf_le:
            Rapport.objects.filter(pk=rapport.pk).update(created_at=reunion.cr_pdf_le)
    if schema_editor.connection.vendor == "postgresql":
        # Check the new rows' foreign keys now: PostgreSQL alters no table (the fields removed
        # below) while deferred checks are pending in the transaction.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def to_reunions(apps, schema_editor):
    Reunion = apps.get_model("cvu", "Reunion")
    Rapport = apps.get_model("reporting", "Rapport")
    for rapport in Rapport.objects.filter(type="compte_rendu", statut="pret").order_by("created_at"):
        Reunion.objects.filter(pk=rapport.reunion_id).update(
            cr_pdf=rapport.fichier.name,
            cr_docx=rapport.modifiable.name,
            cr_pdf_statut="pret",
            cr_pdf_le=rapport.finished_at,
        )
    # The meetings hold their files again (a historical model sends no signal: files stay).
    Rapport.objects.filter(type="compte_rendu").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cvu", "0021_reunion_cr_docx"),
        ("reporting", "0008_compte_rendu"),
        ("comptes", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(to_rapports, to_reunions),
        migrations.RemoveField(model_name="reunion", name="cr_docx"),
        migrations.RemoveField(model_name="reunion", name="cr_pdf"),
        migrations.RemoveField(model_name="reunion", name="cr_pdf_erreur"),
        migrations.RemoveField(model_name="reunion", name="cr_pdf_le"),
        migrations.RemoveField(model_name="reunion", name="cr_pdf_statut"),
    ]
