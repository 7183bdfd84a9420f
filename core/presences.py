"""Attendance grids: one row form per person, the person named by a hidden key.

Meetings, council members at steering meetings and training sessions all take attendance the same
way. The view lists the people (`Attendee`) and the statuses; `presence_formset()` gives a formset
with one `PresenceForm` per person. Rows are matched to people by their key, never by position nor
by parsing field names, and a grid that does not list exactly the people shown (management form
tampered with, an unknown or repeated person) is refused as a whole.
"""

from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import cached_property

PREFIX = "presences"
RELOAD = (
    "Rien n'a été enregistré : la grille ci-dessous a été rechargée, saisissez à nouveau "
    "les présences."
)


@dataclass(frozen=True)
class Attendee:
    """A row of the grid. `key` is posted back as is: letters and digits, never localised."""

    key: str
    name: str
    detail: str = ""
    note: str = ""
    status: str = ""


class PresenceRadioSelect(forms.RadioSelect):
    """Radio buttons named after their person ("Présent – Anne Martin" for a screen reader, while
    the button reads "Présent"), with ids such as `m-1500-present`."""

    attendee = None

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if self.attendee is not None:
            option["attrs"]["id"] = f"{self.attendee.key}-{value or 'aucun'}"
            option["attrs"]["aria-label"] = f"{label} – {self.attendee.name}"
        return option


class PresenceForm(forms.Form):
    """One person's row: who (hidden key) and their status (radio buttons)."""

    personne = forms.CharField(widget=forms.HiddenInput)
    statut = forms.ChoiceField(
        label="Présence",
        required=False,
        widget=PresenceRadioSelect(attrs={"class": "btn-check", "autocomplete": "off"}),
    )

    def __init__(
        self, *args, choices, attendee: Attendee | None, required=False, disabled=False, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.attendee = attendee
        self.fields["statut"].choices = choices
        self.fields["statut"].required = required
        self.fields["statut"].disabled = disabled
        self.fields["statut"].widget.attendee = attendee


class BasePresenceFormSet(forms.BaseFormSet):
    """The grid: exactly one row per person listed by the view, in any order."""

    default_error_messages = {
        "missing_management_form": (
            "La grille des présences envoyée est incomplète ou a été modifiée. " + RELOAD
        ),
        "too_many_forms": "La grille envoyée compte plus de lignes que de personnes. " + RELOAD,
    }

    def __init__(self, data=None, *, people, choices, required=False, disabled=False):
        self.people = list(people)
        self._by_key = {person.key: person for person in self.people}
        self._field_kwargs = {"choices": list(choices), "required": required, "disabled": disabled}
        super().__init__(
            data,
            prefix=PREFIX,
            initial=[{"personne": p.key, "statut": p.status} for p in self.people],
        )
        # Never build more row forms than there are people, whatever TOTAL_FORMS says.
        self.max_num = self.absolute_max = len(self.people)

    def get_form_kwargs(self, index):
        kwargs = {**self._field_kwargs, "attendee": None}
        if index is None:  # empty_form
            return kwargs
        if self.is_bound:
            attendee = self._by_key.get(self.data.get(self.add_prefix(index) + "-personne"))
        else:
            attendee = self.people[index]
        kwargs["attendee"] = attendee
        # Compared with the person's own recorded status, whatever the row's position; and
        # every row is validated, even if INITIAL_FORMS was tampered with.
        kwargs["initial"] = (
            {"personne": attendee.key, "statut": attendee.status} if attendee else {}
        )
        kwargs["empty_permitted"] = False
        return kwargs

    def clean(self):
        if not self.management_form.is_valid():
            return  # already reported, with RELOAD
        keys = [form["personne"].value() for form in self.forms]
        unknown = [key for key in keys if key not in self._by_key]
        if unknown:
            raise ValidationError(
                "La grille désigne une personne qui n'est pas dans la liste. " + RELOAD,
                code="unknown_person",
            )
        if len(set(keys)) != len(keys):
            raise ValidationError(
                "La grille désigne deux fois la même personne. " + RELOAD, code="duplicate_person"
            )
        if len(keys) != len(self.people):
            raise ValidationError(
                "La liste des personnes a changé depuis l'affichage de la page. " + RELOAD,
                code="missing_person",
            )

    @cached_property
    def shown(self) -> "BasePresenceFormSet":
        """The grid to draw: after a refused structure, every person afresh with the recorded
        statuses (the rows sent may be missing or unknown); otherwise this one."""
        if not self.is_bound or not self.non_form_errors():
            return self
        return type(self)(None, people=self.people, **self._field_kwargs)

    @property
    def rows_in_error(self) -> list:
        return [form for form in self.forms if form.errors]

    def statuses(self) -> dict[str, str]:
        """Key of each person -> status chosen ('' for none), once the grid is valid."""
        return {form.cleaned_data["personne"]: form.cleaned_data["statut"] for form in self.forms}

    def changed_statuses(self) -> dict[str, str]:
        """Only the people whose status differs from the one recorded when the page was shown."""
        return {
            form.cleaned_data["personne"]: form.cleaned_data["statut"]
            for form in self.forms
            if form.has_changed()
        }


PresenceFormSet = forms.formset_factory(PresenceForm, formset=BasePresenceFormSet, extra=0)


def presence_formset(
    data, *, people, choices, required=False, disabled=False
) -> BasePresenceFormSet:
    """The attendance grid of `people` with the given status choices, bound when data is given.

    `required`: every row must carry a status (when one of the choices means "none").
    """
    return PresenceFormSet(
        data, people=people, choices=choices, required=required, disabled=disabled
    )
