"""Throughput under gunicorn: requests per second of the busiest pages against a bare view.

Starts gunicorn (`--workers 2` by default) on a free local port, over the database of
DATABASE_URL as left by `make bench` (its users and data), then, for each page in turn, lets
`--clients` processes send requests one after the other for `--duree` seconds, logged in as
the benchmark's chef de service (or chef de projet for the home page). The reference is
/favicon.ico: a Django view behind the same middleware that touches no table. Prints, for each
page, the requests per second and their share of the reference's, measured in the same run.
"""

import http.client
import multiprocessing
import os
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.test import Client

from cvu.models import ContratDeVille
from quartiers.models import Secteur

from .bench_reporting import CONTRAT

TARGET_SHARE = 5.0  # % of the bare view's requests per second (issue #14)


def _hammer(port: int, path: str, cookie: str, seconds: float, results) -> None:
    """One client: requests one after the other until the time is up; counts the answers (a
    logged-in page counts only when served: a redirect would be the login page)."""
    served = (200,) if cookie else (200, 301, 302)
    done = errors = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
            status = connection.getresponse().status
        except OSError:
            status = 0
        finally:
            connection.close()
        if status in served:
            done += 1
        else:
            errors += 1
    results.put((done, errors))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Command(BaseCommand):
    help = "Débit sous gunicorn des pages les plus chargées, face à une vue Django nue."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=2, help="workers gunicorn (2)")
        parser.add_argument("--clients", type=int, default=4, help="clients simultanés (4)")
        parser.add_argument("--duree", type=float, default=10, help="secondes par page (10)")
        parser.add_argument(
            "--debug",
            action="store_true",
            help="gunicorn avec DEBUG=True (par défaut : réglages de production, DEBUG=False)",
        )

    def handle(self, *args, workers, clients, duree, debug, **options):
        contrat = ContratDeVille.objects.filter(nom=CONTRAT).first()
        service = get_user_model().objects.filter(email="bench-service@bench.local").first()
        secteur = Secteur.objects.filter(chef_projet__isnull=False).first()
        if contrat is None or service is None or secteur is None:
            raise CommandError(
                "Lancez d'abord `make bench` sur cette base : ses données servent ici."
            )
        annee = min(max(2025, contrat.annee_debut), contrat.annee_fin)
        pages = [
            ("Vue de référence (/favicon.ico)", "/favicon.ico", None),
            ("Liste des actions", "/actions/", service),
            (
                "Tableau de bord",
                f"/tableau-de-bord/?contrat={contrat.pk}&annee={annee}",
                service,
            ),
            ("Accueil d'un chef de projet", "/", secteur.chef_projet),
        ]
        port = _free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=settings.BASE_DIR,
            env={
                **os.environ,
                "ALLOWED_HOSTS": "127.0.0.1",
                # Production settings, as users are served (DEBUG=True keeps every query's SQL
                # and skips no check): the same key signs the sessions made here, and plain
                # HTTP on the loopback is not redirected to HTTPS.
                **(
                    {}
                    if debug
                    else {
                        "DEBUG": "False",
                        "SECRET_KEY": settings.SECRET_KEY,
                        "SECURE_SSL_REDIRECT": "False",
                    }
                ),
            },
        )
        try:
            self._wait_for(port, server)
            self.stdout.write(
                f"gunicorn -w {workers}, {clients} clients, {duree:.0f} s par page (DEBUG={debug})"
            )
            self.stdout.write(f"{'Page':<36} {'req/s':>9} {'erreurs':>8} {'part':>8}")
            reference = None
            for label, path, user in pages:
                rate, errors = self._rate(port, path, self._cookie(user), clients, duree)
                reference = reference or rate
                share = 100 * rate / reference if reference else 0
                verdict = "" if user is None else (" ok" if share >= TARGET_SHARE else " < 5 %")
                self.stdout.write(f"{label:<36} {rate:>9.1f} {errors:>8} {share:>7.1f}%{verdict}")
        finally:
            server.terminate()
            server.wait(timeout=30)

    def _cookie(self, user) -> str:
        if user is None:
            return ""
        client = Client()
        client.force_login(user)
        return (
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )

    def _wait_for(self, port: int, server) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError("gunicorn s'est arrêté au démarrage.")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise CommandError("gunicorn n'a pas répondu en 30 s.")

    def _rate(self, port: int, path: str, cookie: str, clients: int, seconds: float):
        """Requests per second of `clients` processes over `seconds`, after one warm-up."""
        _hammer(port, path, cookie, 0.5, multiprocessing.Queue())
        results = multiprocessing.Queue()
        processes = [
            multiprocessing.Process(target=_hammer, args=(port, path, cookie, seconds, results))
            for _ in range(clients)
        ]
        started = time.monotonic()
        for process in processes:
            process.start()
        answers = [results.get() for _ in processes]
        for process in processes:
            process.join()
        elapsed = time.monotonic() - started
        return sum(d for d, _ in answers) / elapsed, sum(e for _, e in answers)
