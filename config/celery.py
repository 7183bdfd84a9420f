import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def lift_statement_timeout(**kwargs):
    """The worker builds big exports and reports: its statements get WORKER_STATEMENT_TIMEOUT
    instead of the web's DATABASE_STATEMENT_TIMEOUT (set before its children are forked)."""
    from django.conf import settings
    from django.db import connections

    from config.settings import postgres_options

    for alias, database in settings.DATABASES.items():
        if database["ENGINE"].endswith("postgresql"):
            options = database.setdefault("OPTIONS", {})
            options["options"] = postgres_options(settings.WORKER_STATEMENT_TIMEOUT)
            connections[alias].close()
