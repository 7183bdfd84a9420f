"""Members who left without an end-of-mandate date get one, so that retention can run.

The date is the last change recorded in the access log (when the status was most likely
set), or today when there is none: the retention period then starts now.
"""

from django.db import migrations
from django.db.models import Max
from django.utils import timezone


def fill_departure_date(apps, schema_editor):
    Membre = apps.get_model("participation", "Membre")
    for membre in Membre.objects.exclude(statut="actif").filter(mandat_fin__isnull=True):
        last_change = membre.acces.filter(action="modification").aggregate(d=Max("date"))["d"]
        day = timezone.localdate(last_change) if last_change else timezone.localdate()
        membre.mandat_fin = max(day, membre.mandat_debut)
        membre.save(update_fields=["mandat_fin"])


def drop_import_previews(apps, schema_editor):
    """Member import previews used to keep the whole file in the session: drop them."""
    from django.contrib.sessions.backends.db import SessionStore

    Session = apps.get_model("sessions", "Session")
    store = SessionStore()
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        data = store.decode(session.session_data)
        if "participation_import" in data:
            del data["participation_import"]
            session.session_data = store.encode(data)
            session.save(update_fields=["session_data"])


class Migration(migrations.Migration):
    dependencies = [
        ("participation", "0003_accesdonnees_page"),
        ("sessions", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(fill_departure_date, migrations.RunPython.noop),
        migrations.RunPython(drop_import_previews, migrations.RunPython.noop),
    ]
