"""The attendance grid (core/presences.py): one row per listed person, refused as a whole if not."""

from django.http import QueryDict
from hypothesis import given, settings
from hypothesis import strategies as st

from core.presences import Attendee, presence_formset

CHOICES = [("present", "Présent"), ("excuse", "Excusé"), ("absent", "Absent")]
PEOPLE = [
    Attendee(key="m-7", name="Awa Témoin", detail="CC Chiffogne"),
    Attendee(key="m-1500", name="Jean Mille", detail="CC Chiffogne", status="excuse"),
]


def _data(rows, *, total=None, initial=None):
    data = {
        "presences-TOTAL_FORMS": str(len(rows) if total is None else total),
        "presences-INITIAL_FORMS": str(len(rows) if initial is None else initial),
    }
    for index, (key, statut) in enumerate(rows):
        data[f"presences-{index}-personne"] = key
        if statut:
            data[f"presences-{index}-statut"] = statut
    return data


def _grid(data, **kwargs):
    return presence_formset(data, people=PEOPLE, choices=CHOICES, **kwargs)


def test_one_row_per_person_with_readable_ids_and_recorded_status():
    formset = _grid(None)
    html = "".join(str(form) for form in formset.forms)
    assert [form.attendee.name for form in formset.forms] == ["Awa Témoin", "Jean Mille"]
    assert 'id="m-1500-excuse"' in html
    assert 'value="m-1500"' in html
    assert formset.forms[1]["statut"].value() == "excuse"


def test_statuses_are_matched_by_person_not_by_position():
    formset = _grid(_data([("m-1500", "present"), ("m-7", "")]))
    assert formset.is_valid()
    assert formset.statuses() == {"m-1500": "present", "m-7": ""}
    assert formset.changed_statuses() == {"m-1500": "present"}


def test_a_grid_with_more_rows_than_people_is_refused_in_french():
    data = _data([("m-7", "present"), ("m-1500", "present")], total=3)
    data["presences-2-personne"] = "m-7"
    formset = _grid(data)
    assert not formset.is_valid()
    assert len(formset.forms) == 2
    assert "plus de lignes que de personnes" in formset.non_form_errors()[0]
    assert "Rien n'a été enregistré" in formset.non_form_errors()[0]


def test_a_grid_with_fewer_rows_than_people_is_refused_and_shown_again_in_full():
    formset = _grid(_data([("m-7", "present"), ("m-1500", "absent")], total=1))
    assert not formset.is_valid()
    assert "La liste des personnes a changé" in formset.non_form_errors()[0]
    shown = formset.shown
    assert not shown.is_bound
    assert [(f.attendee.key, f["statut"].value()) for f in shown.forms] == [
        ("m-7", ""),
        ("m-1500", "excuse"),
    ]


def test_a_grid_refused_row_by_row_is_shown_as_sent():
    formset = _grid(_data([("m-7", "venu"), ("m-1500", "absent")]))
    assert not formset.is_valid()
    assert formset.shown is formset


def test_an_unknown_person_is_refused():
    formset = _grid(_data([("m-7", "present"), ("m-99", "present")]))
    assert not formset.is_valid()
    assert "n'est pas dans la liste" in formset.non_form_errors()[0]


def test_the_same_person_twice_is_refused():
    formset = _grid(_data([("m-7", "present"), ("m-7", "absent")]))
    assert not formset.is_valid()
    assert "deux fois la même personne" in formset.non_form_errors()[0]


def test_a_missing_or_garbled_management_form_is_refused_without_crashing():
    for data in ({"presences-0-personne": "m-7"}, _data([], total="beaucoup")):
        formset = _grid(data)
        assert not formset.is_valid()
        assert "incomplète ou a été modifiée" in formset.non_form_errors()[0]


def test_an_unknown_status_is_an_error_on_its_row():
    formset = _grid(_data([("m-7", "venu"), ("m-1500", "present")]))
    assert not formset.is_valid()
    assert [form.attendee.key for form in formset.rows_in_error] == ["m-7"]
    assert "Sélectionnez un choix valide" in formset.rows_in_error[0].errors["statut"][0]


def test_every_row_is_validated_even_if_initial_forms_says_none():
    formset = _grid(_data([("m-7", ""), ("m-1500", "excuse")], initial=0))
    assert formset.is_valid()
    assert formset.statuses() == {"m-7": "", "m-1500": "excuse"}


def test_a_required_grid_refuses_a_row_without_status():
    formset = _grid(_data([("m-7", ""), ("m-1500", "excuse")]), required=True)
    assert not formset.is_valid()
    assert formset.rows_in_error[0].attendee.key == "m-7"


def test_a_disabled_grid_keeps_the_recorded_statuses():
    formset = _grid(_data([("m-7", "present"), ("m-1500", "absent")]), disabled=True)
    assert formset.is_valid()
    assert formset.changed_statuses() == {}


@settings(deadline=None)  # timing varies on a loaded machine; correctness is what counts
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "presences-TOTAL_FORMS",
                "presences-INITIAL_FORMS",
                "presences-MAX_NUM_FORMS",
                "presences-0-personne",
                "presences-0-statut",
                "presences-1-personne",
                "presences-1-statut",
                "presences-2-personne",
            ]
        ),
        st.lists(
            st.sampled_from(
                ["0", "1", "2", "3", "-1", "2001", "١", " 2", "m-7", "m-1500", "m-1 500", "m-99"]
                + ["present", "absent", "invite", "", "\x00", "<b>"]
            ),
            min_size=1,
            max_size=2,
        ),
    )
)
def test_any_post_is_either_refused_or_names_only_listed_people(fields):
    data = QueryDict(mutable=True)
    for name, values in fields.items():
        data.setlist(name, values)
    formset = _grid(data)
    if formset.is_valid():
        statuses = formset.statuses()
        assert sorted(statuses) == ["m-1500", "m-7"]
        assert set(statuses.values()) <= {"", "present", "excuse", "absent"}
    else:
        assert formset.non_form_errors() or formset.rows_in_error
