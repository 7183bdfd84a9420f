import re

from django.core.exceptions import ValidationError

# La Poste's establishments share SIREN 356000000 and follow a different key rule.
LA_POSTE_SIREN = "356000000"


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def normalise_siret(value: str) -> str:
    """Digits only: '200 065 647 00017' -> '20006564700017'."""
    return re.sub(r"[\s.\-]", "", value or "")


def validate_siret_or_siren(value: str) -> None:
    """A SIREN (9 digits) or SIRET (14 digits) whose Luhn key is right."""
    digits = normalise_siret(value)
    if not digits.isdigit() or len(digits) not in (9, 14):
        raise ValidationError(
            "Un SIREN compte 9 chiffres et un SIRET 14 chiffres (reçu : « %(value)s »).",
            code="siret_length",
            params={"value": value},
        )
    if (
        len(digits) == 14
        and digits.startswith(LA_POSTE_SIREN)
        and digits != LA_POSTE_SIREN + "00001"
    ):
        if sum(int(c) for c in digits) % 5 == 0:
            return
    if not luhn_ok(digits):
        raise ValidationError(
            "La clé de contrôle de ce numéro %(kind)s est fausse : vérifiez la saisie.",
            code="siret_key",
            params={"kind": "SIRET" if len(digits) == 14 else "SIREN"},
        )


def validate_rna(value: str) -> None:
    if value and not re.fullmatch(r"W\d{9}", value):
        raise ValidationError(
            "Le numéro RNA a la forme W suivi de 9 chiffres (par exemple W251002345).",
            code="rna",
        )
