"""iCalendar (.ics) for meetings, with the icalendar package (RFC 5545, time zones)."""

from collections.abc import Callable, Iterable, Sequence

from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress

from .models import Reunion

PRODID = "-//Pays de Montbéliard Agglomération//Pilotage CVU//FR"


def reunion_uid(reunion: Reunion) -> str:
    """Stable per meeting, so that a calendar program updates the event instead of adding one."""
    return f"reunion-{reunion.pk}@pilotage-cvu"


def reunion_event(reunion: Reunion, url: str) -> Event:
    """One meeting as a VEVENT, in Paris time; the agenda goes in its description."""
    event = Event()
    event.add("uid", reunion_uid(reunion))
    event.add("sequence", reunion.sequence)
    event.add("dtstamp", timezone.now())
    # Local (Europe/Paris) datetimes give DTSTART;TZID=Europe/Paris, not UTC.
    event.add("dtstart", timezone.localtime(reunion.debut))
    event.add("dtend", timezone.localtime(reunion.fin))
    event.add("summary", reunion.titre or reunion.instance.nom)
    if reunion.lieu:
        event.add("location", reunion.lieu)
    agenda = [f"{n}. {point.texte}" for n, point in enumerate(reunion.points.all(), start=1)]
    lines = [reunion.instance.nom]
    if agenda:
        lines += ["", "Ordre du jour :", *agenda]
    event.add("description", "\n".join(lines))
    event.add("url", url)
    cancelled = reunion.statut == Reunion.Statut.ANNULEE
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def calendar_for(
    reunions: Iterable[Reunion],
    url_for: Callable[[Reunion], str],
    *,
    method: str | None = None,
    organizer: tuple[str, str] | None = None,
    attendees: Sequence[str] = (),
) -> bytes:
    """One calendar holding the meetings; url_for(reunion) gives each meeting's page.

    An e-mailed invitation (method REQUEST or CANCEL, RFC 5546) also names its organizer,
    as (name, e-mail), and its attendees' e-mails; a subscribed feed has neither.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Pilotage CVU – réunions")
    calendar.add("x-wr-timezone", "Europe/Paris")
    calendar.add("x-published-ttl", "PT1H")
    if method:
        calendar.add("method", method)
    for reunion in reunions:
        event = reunion_event(reunion, url_for(reunion))
        if organizer:
            name, email = organizer
            event.add("organizer", vCalAddress.new(email, cn=name or None))
        for email in attendees:
            event.add("attendee", vCalAddress.new(email, role="REQ-PARTICIPANT", rsvp=False))
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
