"""The porteur's administrative pieces, their validity and what a dossier still lacks."""


def organisation_section(user, organisation) -> dict:
    """What the porteur page shows of this part (context for its include)."""
    return {}


def action_section(user, action) -> dict:
    """What the dossier page shows of this part (context for its include)."""
    return {}
