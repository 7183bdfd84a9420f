"""The fiche d'intention a dossier came from, for the dossier page."""

from django import template

from cvu.models import FicheIntention

register = template.Library()


@register.simple_tag
def dossier_intention(action):
    """The action's fiche d'intention, or None when it came from none (the reverse one-to-one
    raises instead of giving None)."""
    try:
        return action.intention
    except FicheIntention.DoesNotExist:
        return None
