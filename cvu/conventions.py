"""Conventions for the collectivité's own grants: templates, building, signature."""


def action_section(user, action) -> dict:
    """What the dossier page shows of this part (context for its include)."""
    return {}
