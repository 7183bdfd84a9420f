SECTIONS = {
    "action": "contrat",
    "document": "contrat",
    "programme": "contrat",
    "organisation": "contrat",
    "contrat": "contrat",
    "aap": "contrat",
    "dossier": "contrat",
    "comite": "contrat",
    "mes": "contrat",
    "instance": "gouvernance",
    "dispositif": "gouvernance",
    "reunion": "gouvernance",
    "suite": "gouvernance",
    "proposition": "gouvernance",
    "engagement": "contrat",
    "projet": "contrat",
    "mi": "contrat",
    "calendrier": "gouvernance",
    "qpv": "territoire",
    "commune": "territoire",
    "secteur": "territoire",
    "observation": "territoire",
    "valeur": "territoire",
    "conseil": "participation",
    "membre": "participation",
    "steering": "participation",
    "demarche": "participation",
    "charte": "participation",
    "cycle": "participation",
    "session": "participation",
}


def nav_section(request):
    """The menu entry to highlight, from the current URL's name (action_detail -> contrat)."""
    match = getattr(request, "resolver_match", None)
    name = (match.url_name or "") if match else ""
    return {"nav_section": SECTIONS.get(name.split("_")[0], "")}
