"""docker-compose.yml: what `docker compose up` starts, read as Compose would, and the settings the
application gets from it. No Docker engine is needed (`docker compose config` runs when present)."""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
COMPOSE = BASE_DIR / "docker-compose.yml"
APP_SERVICES = {"migrate", "web", "worker", "beat"}
LONG_RUNNING = {"postgres", "redis", "web", "worker", "beat", "caddy"}
# Given to the subprocess below as an operator's .env would; the password has every character
# that a URL would need escaped.
SECRETS = {"SECRET_KEY": "s" * 60, "POSTGRES_PASSWORD": "p@ss:w/rd#%?&é"}


def _settings_with(env: dict, expression: str) -> str:
    """Imports config.settings in a clean interpreter with exactly the container's environment."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    result = subprocess.run(
        [sys.executable, "-c", f"import config.settings as s; print(repr(({expression})))"],
        env={**keep, **env},
        capture_output=True,
        text=True,
        cwd=BASE_DIR,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_separate_postgres_variables_need_no_escaping():
    env = {"DEBUG": "True", "POSTGRES_HOST": "postgres", **SECRETS}
    database = _settings_with(env, "s.DATABASES['default']")
    assert "'HOST': 'postgres'" in database
    assert "'PORT': '5432'" in database
    assert "'NAME': 'pilotage_cvu'" in database
    assert "'USER': 'cvu'" in database
    assert repr(SECRETS["POSTGRES_PASSWORD"]) in database


def test_postgres_password_from_a_file(tmp_path):
    secret = tmp_path / "postgres_password"
    secret.write_text("depuis-un-fichier\n")
    env = {"DEBUG": "True", "POSTGRES_HOST": "db", "POSTGRES_PASSWORD_FILE": str(secret)}
    assert _settings_with(env, "s.DATABASES['default']['PASSWORD']") == "'depuis-un-fichier'"


def test_database_url_wins_over_postgres_variables():
    env = {"DEBUG": "True", "POSTGRES_HOST": "postgres", "DATABASE_URL": "postgres://u@autre/base"}
    assert _settings_with(env, "s.DATABASES['default']['HOST']") == "'autre'"


def test_beat_schedule_lives_outside_the_repository():
    path = _settings_with({"DEBUG": "True"}, "s.CELERY_BEAT_SCHEDULE_FILENAME")
    assert not Path(ast.literal_eval(path)).resolve().is_relative_to(BASE_DIR)
    env = {"DEBUG": "True", "CELERY_BEAT_SCHEDULE_FILENAME": "/var/lib/cvu/beat"}
    assert _settings_with(env, "s.CELERY_BEAT_SCHEDULE_FILENAME") == "'/var/lib/cvu/beat'"


# The compose file itself. PyYAML is not among the project's dependencies: these tests run where
# it is installed, and say so where it is not.


@pytest.fixture(scope="module")
def compose():
    yaml = pytest.importorskip("yaml", reason="PyYAML absent : fichier compose non analysé")
    return yaml.safe_load(COMPOSE.read_text())


INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


def interpolate(value, env: dict):
    """Compose's ${NAME}, ${NAME:-default}, ${NAME:?error} and $$, on the shell's env only."""
    if not isinstance(value, str):
        return value

    def replace(match):
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        current = env.get(name)
        unset = current is None or (current == "" and op and op.startswith(":"))
        if not unset:
            return current
        if op and op.endswith("?"):
            raise LookupError(f"{name}: {arg}")
        return arg if op else ""

    return INTERPOLATION.sub(replace, value)


def container_env(compose, service: str, env: dict) -> dict:
    raw = compose["services"][service].get("environment", {})
    return {key: str(interpolate(value, env)) for key, value in raw.items()}


def test_services_and_profiles(compose):
    services = compose["services"]
    assert set(services) == LONG_RUNNING | {"migrate"}
    # `docker compose up` starts everything but the proxy, which the production profile adds.
    started = {name for name, service in services.items() if not service.get("profiles")}
    assert started == LONG_RUNNING - {"caddy"} | {"migrate"}
    assert services["caddy"]["profiles"] == ["production"]


def test_web_answers_on_localhost_8000(compose):
    web = compose["services"]["web"]
    assert "127.0.0.1:8000:8000" in web["ports"]
    assert "gunicorn" in (BASE_DIR / "Dockerfile").read_text()
    assert web["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_restart_policies(compose):
    for name in LONG_RUNNING:
        assert compose["services"][name]["restart"] == "unless-stopped", name
    assert compose["services"]["migrate"]["restart"] == "no"


def test_healthchecks(compose):
    services = compose["services"]
    for name in LONG_RUNNING:
        assert services[name]["healthcheck"]["test"], name
    web = " ".join(services["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/healthz" in web
    worker = " ".join(services["worker"]["healthcheck"]["test"])
    assert "celery -A config inspect ping -d celery@$$HOSTNAME" in worker
    # Beat's healthcheck reads the schedule file beat is told to write.
    beat = " ".join(services["beat"]["healthcheck"]["test"])
    schedule = container_env(compose, "beat", SECRETS)["CELERY_BEAT_SCHEDULE_FILENAME"]
    assert f"glob.glob('{schedule}*')" in beat
    assert not schedule.startswith("/app")
    assert "--schedule" not in services["beat"]["command"]


def test_logs_go_to_standard_output_rotated_by_docker(compose):
    for name, service in compose["services"].items():
        assert service["logging"]["driver"] == "json-file", name
        assert service["logging"]["options"]["max-size"], name
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert '"--access-logfile", "-"' in dockerfile
    assert "PYTHONUNBUFFERED=1" in dockerfile


def test_no_secret_is_written_in_the_file(compose):
    secret = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$")
    for name, service in compose["services"].items():
        for key, value in service.get("environment", {}).items():
            if secret.search(key):
                # Only an interpolation, whose default is empty or an error.
                assert re.fullmatch(r"\$\{[A-Z][A-Z0-9_]*(:\?[^}]*|:-)?\}", str(value)), (name, key)
    for required in SECRETS:
        with pytest.raises(LookupError, match=required):
            container_env(compose, "web", {k: v for k, v in SECRETS.items() if k != required})
    assert "DATABASE_URL" not in COMPOSE.read_text()


def test_local_mode_settings(compose):
    """`docker compose up` with only the two secrets: plain HTTP on localhost, DEBUG off."""
    env = container_env(compose, "web", SECRETS)
    assert env["DEBUG"] == "False"
    expression = (
        "s.DEBUG, s.SECURE_SSL_REDIRECT, s.ALLOWED_HOSTS, s.SITE_URL, s.EMAIL_BACKEND, "
        "s.DATABASES['default']['HOST'], s.DATABASES['default']['PASSWORD'], "
        "s.CELERY_TASK_ALWAYS_EAGER"
    )
    assert _settings_with(env, expression) == repr(
        (
            False,
            False,
            ["localhost", "127.0.0.1", "web"],
            "http://localhost:8000",
            "django.core.mail.backends.console.EmailBackend",
            "postgres",
            SECRETS["POSTGRES_PASSWORD"],
            False,
        )
    )
    # web, worker and beat get the same environment.
    for name in APP_SERVICES:
        assert container_env(compose, name, SECRETS) == env, name


def test_production_values_pass_through(compose):
    dotenv = {
        **SECRETS,
        "ALLOWED_HOSTS": "cvu.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://cvu.example.org",
        "SITE_URL": "https://cvu.example.org",
        "SECURE_SSL_REDIRECT": "True",
        "AXES_PROXY_COUNT": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.org",
        "EMAIL_PORT": "465",
        "EMAIL_HOST_USER": "cvu",
        "EMAIL_HOST_PASSWORD": "mot-de-passe-smtp",
        "EMAIL_USE_SSL": "True",
        "DEFAULT_FROM_EMAIL": "Pilotage CVU <cvu@example.org>",
    }
    env = container_env(compose, "worker", dotenv)
    expression = (
        "s.SECURE_SSL_REDIRECT, s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS, s.AXES_IPWARE_PROXY_COUNT, "
        "s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, "
        "s.EMAIL_USE_SSL, s.DEFAULT_FROM_EMAIL"
    )
    assert _settings_with(env, expression) == repr(
        (
            True,
            ["cvu.example.org", "web"],
            ["https://cvu.example.org"],
            1,
            "django.core.mail.backends.smtp.EmailBackend",
            "smtp.example.org",
            465,
            "cvu",
            "mot-de-passe-smtp",
            True,
            "Pilotage CVU <cvu@example.org>",
        )
    )
    caddy = container_env(compose, "caddy", {"DOMAIN": "cvu.example.org"})
    assert caddy == {"DOMAIN": "cvu.example.org", "CADDY_TLS": "internal"}


def test_caddy_terminates_tls_and_proxies_to_web(compose):
    caddy = compose["services"]["caddy"]
    assert caddy["image"].startswith("caddy:")
    assert {"80:80", "443:443"} <= set(caddy["ports"])
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert caddy["depends_on"]["web"] == {"condition": "service_healthy"}
    caddyfile = (BASE_DIR / "Caddyfile").read_text()
    assert re.search(r"^\{\$DOMAIN\} \{$", caddyfile, re.M)
    assert re.search(r"^\s+reverse_proxy web:8000$", caddyfile, re.M)
    assert re.search(r"^\s+tls \{\$CADDY_TLS:internal\}$", caddyfile, re.M)


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode:
        docker = None
    if docker:
        return [docker, "compose"]
    return [shutil.which("docker-compose")] if shutil.which("docker-compose") else None


def test_docker_compose_accepts_the_file():
    command = _compose_command()
    if command is None:
        pytest.skip("ni « docker compose » ni docker-compose sur cette machine")
    env = {**os.environ, **SECRETS}
    for profile in ([], ["--profile", "production"]):
        result = subprocess.run(
            [*command, "-f", str(COMPOSE), *profile, "config", "-q"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
