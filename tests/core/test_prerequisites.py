"""scripts/check_prerequisites.py, run by `make demo` before anything is installed."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "check_prerequisites.py"


def _check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def fonts(tmp_path):
    directory = tmp_path / "fonts" / "truetype"
    directory.mkdir(parents=True)
    (directory / "DejaVuSans.ttf").write_bytes(b"\x00\x01\x00\x00")
    return directory.parent


@pytest.fixture
def module():
    spec = importlib.util.spec_from_file_location("check_prerequisites", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_machine_with_everything_passes_silently(fonts):
    # libc is on every Linux machine: the pass case does not depend on this one's packages.
    result = _check("--venv", sys.prefix, "--library", "libc.so.6=libc6", "--font-dir", str(fonts))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_missing_library_names_it_and_the_apt_get_line(fonts):
    result = _check(
        "--library",
        "libc.so.6=libc6",
        "--library",
        "libpango-absente-1.0.so.0=libpango-1.0-0",
        "--font-dir",
        str(fonts),
    )
    assert result.returncode == 1
    assert "Prérequis manquants pour Pilotage CVU" in result.stderr
    assert "bibliothèque libpango-absente-1.0.so.0 introuvable" in result.stderr
    assert "apt-get install -y libpango-1.0-0\n" in result.stderr
    assert "libc6" not in result.stderr


def test_no_font_asks_for_the_font_packages(tmp_path):
    empty = tmp_path / "aucune-police"
    empty.mkdir()
    (empty / "LISEZMOI.txt").write_text("pas une police")
    result = _check("--library", "libc.so.6=libc6", "--font-dir", str(empty))
    assert result.returncode == 1
    assert "aucune police installée" in result.stderr
    assert "apt-get install -y fonts-dejavu-core fonts-liberation2" in result.stderr


def test_python_without_venv_module_asks_for_python3_venv(module, tmp_path):
    problems = module.python_problems(tmp_path / "venv", find_spec=lambda name: None)
    assert problems == [
        ("python3 -m venv ne peut pas créer d'environnement (module ensurepip)", ["python3-venv"])
    ]
    # Once the virtualenv exists, python3-venv is no longer needed.
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").touch()
    assert module.python_problems(tmp_path / "venv", find_spec=lambda name: None) == []


def test_default_list_is_what_weasyprint_loads(module):
    ffi = Path(importlib.util.find_spec("weasyprint").origin).parent / "text" / "ffi.py"
    source = ffi.read_text()
    for soname in module.LIBRARIES:
        assert f"'{soname}'" in source, soname


@pytest.mark.skipif(shutil.which("make") is None, reason="make absent")
def test_make_demo_checks_before_creating_the_virtualenv(tmp_path):
    # Run as CI does, from inside another make: its variables would add "Entering directory".
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    }
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "demo", f"VENV={tmp_path / 'venv'}"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    commands = [line for line in result.stdout.splitlines() if not line.startswith("make")]
    assert "check_prerequisites.py" in commands[0]
    assert any(" -m venv " in line for line in commands[1:])
