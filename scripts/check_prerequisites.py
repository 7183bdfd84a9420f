"""Checks what a fresh machine needs before `make demo` installs anything.

Run by the Makefile with the system's python3 (standard library only): Python 3.11 to 3.13 able
to create a virtualenv (python3-venv on Debian), the libraries WeasyPrint loads to draw PDFs
(Pango, HarfBuzz, fontconfig, GObject) and at least one font. When something is missing it says
what, and the apt-get line that installs it, and exits with status 1.

--library SONAME=PACKAGE and --font-dir DIR replace the lists checked (the tests use them to
simulate a machine without a library or without fonts); --venv DIR skips the virtualenv check
when DIR already holds one.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import sys
from pathlib import Path

# What WeasyPrint dlopen()s (weasyprint/text/ffi.py), with the Debian package providing it.
# HarfBuzz-subset is optional for WeasyPrint but its absence raises a DeprecationWarning,
# which the test suite turns into an error.
LIBRARIES = {
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libpango-1.0.so.0": "libpango-1.0-0",
    "libpangoft2-1.0.so.0": "libpangoft2-1.0-0",
    "libharfbuzz.so.0": "libharfbuzz0b",
    "libharfbuzz-subset.so.0": "libharfbuzz-subset0",
    "libfontconfig.so.1": "libfontconfig1",
}
FONT_DIRS = [
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local/share/fonts",
    Path.home() / ".fonts",
]
FONT_PACKAGES = ["fonts-dejavu-core", "fonts-liberation2"]
FONT_SUFFIXES = {".ttf", ".otf", ".ttc", ".pfb"}
SUPPORTED_PYTHON = ((3, 11), (3, 13))


def python_problems(venv: Path | None, find_spec=importlib.util.find_spec):
    problems = []
    low, high = SUPPORTED_PYTHON
    if not low <= sys.version_info[:2] <= high:
        problems.append(
            (
                f"Python {sys.version_info.major}.{sys.version_info.minor} : il faut Python "
                f"{low[0]}.{low[1]} à {high[0]}.{high[1]} (variable PYTHON du Makefile)",
                ["python3"],
            )
        )
    already = venv is not None and (venv / "bin" / "python").exists()
    if not already and find_spec("ensurepip") is None:
        problems.append(
            (
                "python3 -m venv ne peut pas créer d'environnement (module ensurepip)",
                ["python3-venv"],
            )
        )
    return problems


def library_problems(libraries: dict[str, str]) -> list[tuple[str, list[str]]]:
    """Loads each library as WeasyPrint will, by its soname."""
    problems = []
    for soname, package in libraries.items():
        try:
            ctypes.CDLL(soname)
        except OSError:
            problems.append((f"bibliothèque {soname} introuvable (PDF avec WeasyPrint)", [package]))
    return problems


def font_problems(font_dirs: list[Path]) -> list[tuple[str, list[str]]]:
    for directory in font_dirs:
        if directory.is_dir() and any(
            path.suffix.lower() in FONT_SUFFIXES for path in directory.rglob("*")
        ):
            return []
    searched = ", ".join(str(d) for d in font_dirs)
    return [(f"aucune police installée (cherchée dans {searched})", FONT_PACKAGES)]


def report(problems: list[tuple[str, list[str]]]) -> str:
    packages = []
    for _, names in problems:
        packages += [name for name in names if name not in packages]
    lines = ["Prérequis manquants pour Pilotage CVU :"]
    lines += [f"  - {what}" for what, _ in problems]
    lines += [
        "Installez-les (en root, ou précédé de sudo), puis relancez la commande :",
        f"  apt-get install -y {' '.join(packages)}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, help="virtualenv déjà créé : pas de vérification")
    parser.add_argument(
        "--library", action="append", metavar="SONAME=PAQUET", help="remplace la liste vérifiée"
    )
    parser.add_argument(
        "--font-dir", action="append", type=Path, help="remplace les dossiers de polices"
    )
    args = parser.parse_args(argv)
    libraries = dict(item.split("=", 1) for item in args.library) if args.library else LIBRARIES
    problems = (
        python_problems(args.venv)
        + library_problems(libraries)
        + font_problems(args.font_dir or FONT_DIRS)
    )
    if problems:
        print(report(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
