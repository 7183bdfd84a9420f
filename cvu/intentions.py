"""Porteurs before the call: fiches d'intention and the advice log (échanges)."""


def organisation_section(user, organisation) -> dict:
    """What the porteur page shows of this part (context for its include)."""
    return {}
