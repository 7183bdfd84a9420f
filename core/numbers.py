"""Parsing numbers and amounts typed the French way ('1 200,50 €')."""

import re
from decimal import Decimal, InvalidOperation

_SPACES = re.compile(r"[\s\u00a0\u202f]")


def parse_decimal(value, *, places: int = 2) -> Decimal | None:
    """'1 200,50 €' -> Decimal('1200.50'); '' -> None; raises ValueError with a French message."""
    if value is None:
        return None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number = Decimal(str(value))
    else:
        text = _SPACES.sub("", str(value)).removesuffix("€").removesuffix("EUR")
        if text == "":
            return None
        if not re.fullmatch(r"[+-]?[\d.,]+", text):
            raise ValueError(f"« {value} » n'est pas un nombre valide (exemple : 1 200,50).")
        if text.count(",") == 1 and "." in text:
            # '1.200,50': dots are thousand separators.
            text = text.replace(".", "")
        text = text.replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(
                f"« {value} » n'est pas un nombre valide (exemple : 1 200,50)."
            ) from None
        if not number.is_finite():
            raise ValueError(f"« {value} » n'est pas un nombre valide (exemple : 1 200,50).")
    quantum = Decimal(1).scaleb(-places)
    try:
        rounded = number.quantize(quantum)
    except InvalidOperation:
        raise ValueError(f"« {value} » est trop grand.") from None
    if number != rounded:
        raise ValueError(f"« {value} » a plus de {places} décimales.")
    return rounded
