"""Dauphin dossier numbers, read the same way by every import (Dauphin list, actions)."""

import re
import unicodedata
from dataclasses import dataclass

from core.imports import CellError, text_of

from .models import Action

NUMERO_MAX_LENGTH = Action._meta.get_field("numero_dauphin").max_length

_DA_PREFIX = re.compile(r"^DA[^A-Z0-9]*(?=\d)")
_SEPARATORS = re.compile(r"[\s\-_/.\u2010-\u2015]+")
_ACTION_SUFFIX = re.compile(r"[1-9]\d?")


@dataclass(frozen=True)
class Numero:
    """A Dauphin number: the project's code and, when given, the rank of one of its actions.

    Written '2026-00123' (the project) or '2026-00123-2' (its second action): the canonical
    form keeps that distinction and drops what export layouts add around it (the 'DA' prefix,
    spaces, other separators). A project code alone designates its first action, so '2026-00123'
    and 'DA 2026-00123-1' are one dossier (`key`) while '2026-00123-2' is another."""

    projet: str
    action: int | None = None

    def __str__(self) -> str:
        return self.projet if self.action is None else f"{self.projet}-{self.action}"

    @property
    def key(self) -> tuple[str, int]:
        return (self.projet, self.action or 1)


def parse_numero(value) -> Numero | None:
    """'DA-2026-00123', 'da 2026 00123', '2026-00123-1' -> Numero; None for an empty cell.

    A last part of one or two digits (not starting with 0) is an action's rank when it follows
    a year and a number ('2026-00123-1') or a long number ('26000123-1'); '2026-001' stays a
    plain number. Raises CellError for a number with other characters than letters, digits and
    separators, or too long to be stored."""
    text = unicodedata.normalize("NFKC", text_of(value)).upper().strip()
    if not text:
        return None
    text = _DA_PREFIX.sub("", text)
    parts = [part for part in _SEPARATORS.split(text) if part]
    if not parts or not all(part.isalnum() and part.isascii() for part in parts):
        raise CellError(
            f"« {text_of(value)[:40]} » n'est pas un n° de dossier Dauphin (lettres, chiffres "
            "et tirets seulement, par exemple DA-2026-00123)"
        )
    action = None
    if (
        len(parts) >= 2
        and _ACTION_SUFFIX.fullmatch(parts[-1])
        and (len(parts) >= 3 or (parts[0].isdigit() and len(parts[0]) >= 5))
    ):
        action = int(parts.pop())
    numero = Numero("-".join(parts), action)
    if len(str(numero)) > NUMERO_MAX_LENGTH:
        raise CellError(f"« {text_of(value)[:40]} » compte plus de {NUMERO_MAX_LENGTH} caractères")
    return numero


def numero_key(stored: str) -> tuple[str, int] | None:
    """The identity of a number already stored, whatever form it was typed in."""
    try:
        numero = parse_numero(stored)
    except CellError:
        return (stored, 1)
    return numero.key if numero else None
