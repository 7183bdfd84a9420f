from datetime import date, timedelta
from decimal import Decimal

from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from core.templatetags.formats import duree, euros, nombre

NNBSP = "\u202f"


def test_amounts_are_written_the_french_way():
    assert euros(Decimal("1234.56")) == f"1{NNBSP}234,56\u00a0€"
    assert euros(0) == "0,00\u00a0€"
    assert euros(None) == ""


def test_numbers_drop_useless_zeros():
    assert nombre(Decimal("40.5000")) == "40,5"
    assert nombre(Decimal("12500.0000")) == f"12{NNBSP}500"
    assert nombre("pas un nombre") == ""


def test_dates_are_written_day_month_year():
    rendered = Template("{{ d }}").render(Context({"d": date(2026, 11, 28)}))
    assert rendered == "28/11/2026"


def test_durations_in_words():
    assert duree(timedelta(minutes=15)) == "15 minutes"
    assert duree(timedelta(minutes=90)) == "1 heure 30 minutes"


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False))
def test_euros_round_trips_to_the_same_amount(amount):
    text = euros(amount).removesuffix("\u00a0€")
    assert Decimal(text.replace(NNBSP, "").replace(",", ".")) == amount


def test_iso_dates_and_intervals_are_written_the_french_way_on_screen():
    from core.templatetags.formats import dates_fr

    assert dates_fr("2025-06-30") == "30/06/2025"
    assert dates_fr("2025-03-20/2025-09-15") == "20/03/2025 au 15/09/2025"
    assert dates_fr("") == "" and dates_fr(None) == ""
