"""iCalendar (.ics) for meetings, with the icalendar package (RFC 5545, time zones)."""

from django.utils import timezone
from icalendar import Calendar, Event

from .models import Reunion

PRODID = "-//Pays de Montbéliard Agglomération//Pilotage CVU//FR"


def reunion_event(reunion: Reunion, url: str) -> Event:
    event = Event()
    event.add("uid", f"reunion-{reunion.pk}@pilotage-cvu")
    event.add("sequence", reunion.sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", timezone.localtime(reunion.debut))
    event.add("dtend", timezone.localtime(reunion.fin))
    event.add("summary", reunion.titre or reunion.instance.nom)
    if reunion.lieu:
        event.add("location", reunion.lieu)
    agenda = [f"{n}. {point.texte}" for n, point in enumerate(reunion.points.all(), start=1)]
    description = "\n".join(
        [reunion.instance.nom, *(["Ordre du jour :", *agenda] if agenda else [])]
    )
    event.add("description", description)
    event.add("url", url)
    cancelled = reunion.statut == Reunion.Statut.ANNULEE
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def calendar_for(reunions, url_for, *, method: str | None = None) -> bytes:
    """One calendar holding the meetings; url_for(reunion) gives each meeting's page."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Pilotage CVU – réunions")
    calendar.add("x-published-ttl", "PT1H")
    if method:
        calendar.add("method", method)
    for reunion in reunions:
        calendar.add_component(reunion_event(reunion, url_for(reunion)))
    calendar.add_missing_timezones()
    return calendar.to_ical()
