"""What changed, who and when: readable entries from django-simple-history records."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import models
from django.utils.formats import date_format

from core.templatetags.formats import euros

from .models import Action, Financement

ACTION_FIELDS = [
    f for f in Action._meta.concrete_fields if f.name not in ("id", "created_at", "updated_at")
]
FINANCEMENT_FIELDS = [
    f for f in Financement._meta.concrete_fields if f.name not in ("id", "action")
]
KINDS = {"+": "Création", "~": "Modification", "-": "Suppression"}


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class Entry:
    date: datetime
    user: object
    kind: str
    subject: str
    changes: list[Change] = field(default_factory=list)


def _display(model_field, value, names: dict) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(model_field, models.ForeignKey):
        return names.get((model_field.related_model, value), f"n° {value}")
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.DecimalField):
        return euros(value)  # the amounts as every screen writes them: 17 126,08 €
    if isinstance(model_field, models.DateField):
        return date_format(value, "d/m/Y")
    return str(value)


def _names(records, fields) -> dict:
    """One query per related model to show names instead of ids."""
    wanted: dict[type, set] = {}
    for record in records:
        for model_field in fields:
            if isinstance(model_field, models.ForeignKey):
                value = getattr(record, model_field.attname)
                if value is not None:
                    wanted.setdefault(model_field.related_model, set()).add(value)
    names = {}
    for model, pks in wanted.items():
        for obj in model._default_manager.filter(pk__in=pks):
            names[(model, obj.pk)] = str(obj)
    return names


def _entries(records, fields, subject) -> list[Entry]:
    """Consecutive records of each object compared in Python (no query per record)."""
    names = _names(records, fields)
    entries, previous = [], {}
    for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        before = previous.get(record.id)
        changes = []
        if record.history_type == "~" and before is not None:
            for model_field in fields:
                old, new = (
                    getattr(before, model_field.attname),
                    getattr(record, model_field.attname),
                )
                if old != new:
                    changes.append(
                        Change(
                            str(model_field.verbose_name),
                            _display(model_field, old, names),
                            _display(model_field, new, names),
                        )
                    )
            if not changes:
                previous[record.id] = record
                continue
        entries.append(
            Entry(
                record.history_date,
                record.history_user,
                KINDS[record.history_type],
                subject(record, names),
                changes,
            )
        )
        previous[record.id] = record
    return entries


def action_history(action: Action, *, since: datetime | None = None) -> list[Entry]:
    """The action's and its financing lines' changes, newest first."""
    action_records = list(action.history.select_related("history_user"))
    financement_records = list(
        Financement.history.filter(action_id=action.pk).select_related("history_user")
    )
    financeur = Financement._meta.get_field("financeur")
    entries = _entries(action_records, ACTION_FIELDS, lambda r, n: "Action") + _entries(
        financement_records,
        FINANCEMENT_FIELDS,
        lambda r, n: f"Financement {_display(financeur, r.financeur_id, n)} {r.annee}",
    )
    if since is not None:
        entries = [e for e in entries if e.date > since]
    return sorted(entries, key=lambda e: e.date, reverse=True)
