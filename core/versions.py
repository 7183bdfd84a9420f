"""Figures kept in the cache until the data they are computed from changes.

At ten times PMA's history a year's figures add up 78,000 financing lines of 18,000 dossiers
(half a second); they change only when someone writes. Database triggers keep one number,
`VersionDonnees.numero`, that goes up with every committed transaction writing in a watched
table; a figure cached under that number stays right as long as the number does not move.

On PostgreSQL (the migrations add the triggers with `watch`):

- a deferred constraint trigger raises the number once per transaction, at its commit. The
  row is locked only while the transaction commits, so writers do not wait for each other's
  imports, and readers see the new number only with the data that made it;
- a statement trigger marks the transaction as having written (a setting local to it): until
  it ends, its own reads skip the cache, since they see data that the number does not tell yet.

Elsewhere (SQLite: the demo) nothing is cached: the figures are computed on each request.
"""

import hashlib
import logging
import re
import time

from django.core.cache import cache
from django.db import connection
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# The cache keeps a figure this long at most (a version nobody reads any more expires).
TIMEOUT = 6 * 3600
WRITTEN = "pilotage.donnees_ecrites"
BUMPED = "pilotage.version_relevee"

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION pilotage_donnees_ecrites() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('{WRITTEN}', '1', true);
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION pilotage_version_relevee() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('{BUMPED}', true) IS DISTINCT FROM '1' THEN
        PERFORM set_config('{BUMPED}', '1', true);
        UPDATE core_versiondonnees SET numero = numero + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END $$;
"""


def watch_sql(table: str) -> str:
    """The triggers that make writes in `table` raise the version (PostgreSQL). A TRUNCATE
    (which a constraint trigger cannot follow) raises it at once."""
    return f"""
CREATE TRIGGER pilotage_ecrit AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}"
    FOR EACH STATEMENT EXECUTE FUNCTION pilotage_donnees_ecrites();
CREATE CONSTRAINT TRIGGER pilotage_version AFTER INSERT OR UPDATE OR DELETE ON "{table}"
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pilotage_version_relevee();
CREATE TRIGGER pilotage_vide AFTER TRUNCATE ON "{table}"
    FOR EACH STATEMENT EXECUTE FUNCTION pilotage_version_relevee();
"""


def unwatch_sql(table: str) -> str:
    return "".join(
        f'DROP TRIGGER IF EXISTS {name} ON "{table}";\n'
        for name in ("pilotage_ecrit", "pilotage_version", "pilotage_vide")
    )


def watch(*tables: str):
    """A migration operation adding the triggers on these tables (nothing outside PostgreSQL)."""
    from django.db import migrations

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(FUNCTIONS + "".join(watch_sql(t) for t in tables))

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute("".join(unwatch_sql(t) for t in tables))

    return migrations.RunPython(forwards, backwards)


_watched: set[str] | None = None


def _state() -> tuple[int | None, set[str]]:
    """The data's version (None when figures must be computed afresh: outside PostgreSQL, or in
    a transaction that has written in a watched table) and the watched tables, in one query.
    The tables are read from the database's triggers once per process: only a migration
    changes them."""
    global _watched
    if connection.vendor != "postgresql":
        return None, set()
    tables = (
        "NULL"
        if _watched is not None
        else "(SELECT array_agg(DISTINCT c.relname) FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = 'pilotage_version')"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT numero FROM core_versiondonnees WHERE id = 1), "
            f"current_setting(%s, true), {tables}",
            [WRITTEN],
        )
        numero, written, watched = cursor.fetchone()
    if _watched is None:
        _watched = set(watched or ())
    return (None if written == "1" else numero), _watched


def watched_tables() -> set[str]:
    """The tables whose writes raise the version."""
    return _state()[1]


def current() -> int | None:
    """The data's version, or None when figures must be computed afresh (one query)."""
    return _state()[0]


# A shared cache (Redis, settings.CACHE_URL) that fails is left alone this long: the figures are
# computed meanwhile, rather than each request waiting for its connection timeout.
PAUSE_AFTER_FAILURE = 30
_cache_down_until = 0.0


def _cache_call(method, *args):
    """cache.method(*args), or None while the shared cache is unreachable."""
    global _cache_down_until
    if time.monotonic() < _cache_down_until:
        return None
    try:
        return method(*args)
    except RedisError:
        _cache_down_until = time.monotonic() + PAUSE_AFTER_FAILURE
        logger.warning(
            "Cache injoignable : les chiffres sont calculés sans lui pendant %s s.",
            PAUSE_AFTER_FAILURE,
        )
        return None


def _kept(version: int | None, key: str, compute):
    if version is None:
        return compute()
    full_key = f"{key}:v{version}"
    value = _cache_call(cache.get, full_key)
    if value is None:
        value = compute()
        _cache_call(cache.set, full_key, value, TIMEOUT)
    return value


def cached(key: str, compute):
    """compute()'s result, kept under `key` for the data's current version (one query)."""
    return _kept(current(), key, compute)


def tables_read(sql: str) -> set[str]:
    return set(re.findall(r'(?:FROM|JOIN) "(\w+)"', sql))


def cached_query(name: str, querysets, compute):
    """compute()'s result over a queryset (or a tuple of them), kept under their SQL for the
    data's current version when every table the SQL reads is watched; computed each time
    otherwise (a filter on a table whose writes do not raise the version would keep a stale
    result)."""
    version, watched = _state()
    if version is None:
        return compute()
    texts = []
    for queryset in querysets if isinstance(querysets, tuple) else (querysets,):
        sql, params = queryset.query.sql_with_params()
        if not tables_read(sql) <= watched:
            return compute()
        texts.append(f"{sql}\x00{params!r}")
    digest = hashlib.sha256("\x01".join(texts).encode()).hexdigest()
    return _kept(version, f"{name}:{digest}", compute)
