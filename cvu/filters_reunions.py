"""The calendar's filters: the meeting filters plus the month shown (?mois=2026-11)."""

import calendar
from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.utils import timezone

from .filters import ReunionFilterSet


def month_weeks(first: date) -> list[list[date]]:
    """The weeks, Monday to Sunday, that show the given month."""
    return calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)


def month_bounds(first: date) -> tuple[datetime, datetime]:
    """From the first Monday shown to the day after the last Sunday shown, in local time."""
    weeks = month_weeks(first)
    tz = timezone.get_current_timezone()
    start = datetime.combine(weeks[0][0], time.min, tzinfo=tz)
    end = datetime.combine(weeks[-1][-1] + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


class MonthField(forms.DateField):
    """A month typed as YYYY-MM (the value of <input type="month">), cleaned to its first day."""

    input_formats = ["%Y-%m"]
    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    default_error_messages = {"invalid": "Indiquez un mois sous la forme AAAA-MM."}

    def to_python(self, value):
        month = super().to_python(value)
        # Far years would overflow the previous and next month links.
        if month is not None and not 1900 <= month.year <= 2999:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return month


class MonthFilter(django_filters.Filter):
    """The meetings of the weeks showing a month, as the month grid draws them."""

    field_class = MonthField

    def filter(self, qs, value):
        if not value:
            return qs
        start, end = month_bounds(value)
        return qs.filter(debut__gte=start, debut__lt=end)


class CalendrierFilterSet(ReunionFilterSet):
    mois = MonthFilter(label="Mois")

    class Meta(ReunionFilterSet.Meta):
        pass
