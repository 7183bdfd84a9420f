import re
from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

register = template.Library()


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


@register.filter
def euros(value, decimals=2):
    """1234.5 -> '1 234,50 €' (empty string for a missing amount)."""
    amount = _decimal(value)
    if amount is None:
        return ""
    return f"{number_format(amount, decimal_pos=int(decimals), force_grouping=True)}\u00a0€"


@register.filter
def nombre(value):
    """A French-formatted number without useless trailing zeros: 40.50 -> '40,5'."""
    number = _decimal(value)
    if number is None:
        return ""
    exponent = number.normalize().as_tuple().exponent
    decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    return number_format(number, decimal_pos=decimals, force_grouping=True)


@register.filter
def duree(value):
    """A timedelta in words: 15 minutes, 1 heure 30 minutes."""
    if value is None or value == "":
        return ""
    minutes = int(value.total_seconds() // 60)
    heures, minutes = divmod(minutes, 60)
    parts = []
    if heures:
        parts.append(f"{heures} heure{'s' if heures > 1 else ''}")
    if minutes or not heures:
        parts.append(f"{minutes} minute{'s' if minutes > 1 else ''}")
    return " ".join(parts)


@register.filter
def sum_of(items, attribute: str):
    """The sum of one attribute over a list, missing values counted as 0: lines|sum_of:"vote"."""
    return sum((getattr(item, attribute) or Decimal(0) for item in items), Decimal(0))


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@register.filter
def dates_fr(value):
    """ISO dates written the French way for a screen: '2025-03-20/2025-09-15' ->
    '20/03/2025 au 15/09/2025' (files keep the ISO form the standards ask for)."""
    parts = str(value or "").split("/")  # an ISO 8601 interval: start/end
    return " au ".join(_ISO_DATE.sub(lambda m: f"{m[3]}/{m[2]}/{m[1]}", part) for part in parts)


@register.filter
def texte_formate(value):
    """Markdown written by an agent as safe HTML (core.texte)."""
    from core.texte import en_html

    return en_html(value)
