"""Query helpers shared by every app: who is a real user, French alphabetical order."""

from django.db import connection
from django.db.models import QuerySet
from django.db.models.functions import Collate


def is_active_user(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def alphabetical(queryset, first=(), field="nom"):
    """Orders by name in French order (É with E), after the fields in first."""
    # The ICU collation exists only on PostgreSQL; SQLite keeps plain ordering.
    if connection.vendor == "postgresql":
        return queryset.order_by(*first, Collate(field, "fr-x-icu"))
    return queryset.order_by(*first, field)


class SharedQuerySet(QuerySet):
    """Rows every logged-in user may read (territory, contract data)."""

    def visible_to(self, user):
        return self.all() if is_active_user(user) else self.none()

    def alphabetical(self, *first):
        return alphabetical(self, first)


class RoleQuerySet(SharedQuerySet):
    """Read by all; editable by the chef de service and administrators everywhere, by a chef de
    projet where `editable_by_chef_projet` says (nothing by default), never by the direction."""

    def editable_by(self, user):
        if not is_active_user(user):
            return self.none()
        if user.sees_everything_as_manager:
            return self.all()
        if user.is_chef_projet:
            return self.editable_by_chef_projet(user)
        return self.none()

    def editable_by_chef_projet(self, user):
        return self.none()
