"""Posting an attendance grid (core/presences.py) the way the page does."""


def grid_data(response, statuses: dict[str, str] | None = None, **extra) -> dict:
    """The grid shown in `response`, with `statuses` (person key -> status) changed."""
    formset = response.context["formset"]
    data = {
        f"{formset.prefix}-{name}": value for name, value in formset.management_form.initial.items()
    }
    for form in formset.forms:
        key = form.attendee.key
        data[f"{form.prefix}-personne"] = key
        status = (statuses or {}).get(key, form.attendee.status)
        if status:
            data[f"{form.prefix}-statut"] = status
    data.update(extra)
    return data
