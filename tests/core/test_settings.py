import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from config.settings import database_from_url, env_bool
from tests.conftest import require_live


def _settings_in_subprocess(env: dict, expression: str) -> subprocess.CompletedProcess:
    """Imports config.settings in a clean interpreter with exactly this environment."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    clean.pop("DEBUG", None)
    clean.pop("SECRET_KEY", None)
    return subprocess.run(
        [sys.executable, "-c", f"import config.settings as s; print({expression})"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )


def test_sqlite_file_in_project_without_database_url():
    result = _settings_in_subprocess(
        {"DEBUG": "True"}, "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME']"
    )
    assert result.returncode == 0, result.stderr
    assert "django.db.backends.sqlite3" in result.stdout
    assert str(settings.BASE_DIR / "db.sqlite3") in result.stdout


def test_tasks_run_in_process_without_broker():
    result = _settings_in_subprocess({"DEBUG": "True"}, "s.CELERY_TASK_ALWAYS_EAGER")
    assert result.stdout.strip() == "True"


def test_real_worker_when_broker_is_set():
    result = _settings_in_subprocess(
        {"DEBUG": "True", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"},
        "s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_RESULT_BACKEND",
    )
    assert result.stdout.strip() == "False redis://127.0.0.1:6379/0"


def test_secret_key_is_mandatory_when_debug_is_off():
    result = _settings_in_subprocess({}, "s.SECRET_KEY")
    assert result.returncode != 0
    assert "SECRET_KEY est obligatoire" in result.stderr


def test_debug_is_off_unless_asked():
    result = _settings_in_subprocess({"SECRET_KEY": "x" * 60}, "s.DEBUG, s.SESSION_COOKIE_SECURE")
    assert result.stdout.strip() == "False True"


def test_database_url_is_parsed_for_postgresql():
    config = database_from_url("postgres://cvu:s%40cret@db.example:5433/pilotage")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("pilotage", "cvu", "s@cret")
    assert (config["HOST"], config["PORT"]) == ("db.example", "5433")


def test_unknown_database_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured, match="schéma non pris en charge"):
        database_from_url("mysql://root@localhost/cvu")


def test_env_bool_refuses_a_typo(monkeypatch):
    monkeypatch.setenv("DEBUG_TYPO", "yes please")
    with pytest.raises(ImproperlyConfigured, match="True ou False"):
        env_bool("DEBUG_TYPO", False)


def test_french_everywhere():
    assert settings.LANGUAGE_CODE == "fr-fr"
    assert settings.TIME_ZONE == "Europe/Paris"


@pytest.mark.live
@pytest.mark.django_db
def test_postgresql_is_used_when_database_url_is_set():
    require_live(None if os.environ.get("DATABASE_URL") else "DATABASE_URL n'est pas défini")
    assert connection.vendor == "postgresql"


def test_figures_stay_in_each_process_without_cache_url():
    result = _settings_in_subprocess(
        {"DEBUG": "True"}, "s.CACHES['default']['BACKEND'], s.FIGURES_WARM"
    )
    assert result.stdout.strip() == "django.core.cache.backends.locmem.LocMemCache False"


def test_cache_url_shares_the_figures_through_redis():
    result = _settings_in_subprocess(
        {
            "DEBUG": "True",
            "DATABASE_URL": "postgres://u@db:5432/pma",
            "CACHE_URL": "redis://cache:6379/1",
        },
        "s.CACHES['default']['BACKEND'], s.CACHES['default']['KEY_PREFIX'], s.FIGURES_WARM",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "django.core.cache.backends.redis.RedisCache pilotage:pma True"
    )
    off = _settings_in_subprocess(
        {"DEBUG": "True", "CACHE_URL": "redis://cache:6379/1", "FIGURES_WARM": "False"},
        "s.FIGURES_WARM",
    )
    assert off.stdout.strip() == "False"


def test_cache_url_must_be_redis():
    result = _settings_in_subprocess({"DEBUG": "True", "CACHE_URL": "memcached://x:11211"}, "1")
    assert result.returncode != 0
    assert "CACHE_URL : schéma non pris en charge ('memcached')" in result.stderr
