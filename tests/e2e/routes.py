"""The app's pages from the URL resolver: each named route is either visited (PAGES, with the
role that opens it and its URL kwargs taken from the `world` fixture) or skipped with its reason
(SKIPPED). Shared by the browser tests that walk every page."""

from django.urls import URLPattern, URLResolver, get_resolver, reverse

# Each visited route: the role that opens it and the URL kwargs taken from the `world` fixture.
# Roles: "cdp" chef de projet of the sector, "service" chef de service, "anonymous".
PAGES = {
    "accessibilite": ("anonymous", {}),
    "comptes:login": ("anonymous", {}),
    "comptes:password_reset": ("anonymous", {}),
    "comptes:password_reset_done": ("anonymous", {}),
    "comptes:password_reset_confirm": ("anonymous", {"uidb64": "uidb64", "token": "token"}),
    "comptes:password_reset_complete": ("anonymous", {}),
    "comptes:preferences": ("cdp", {}),
    "comptes:password_change": ("cdp", {}),
    "comptes:password_change_done": ("cdp", {}),
    "quartiers:qpv_list": ("cdp", {}),
    "quartiers:qpv_detail": ("cdp", {"pk": "qpv"}),
    "quartiers:commune_list": ("cdp", {}),
    "quartiers:commune_detail": ("cdp", {"code_insee": "code_insee"}),
    "quartiers:secteur_list": ("cdp", {}),
    "quartiers:observation_update": ("cdp", {"pk": "observation"}),
    "quartiers:observation_delete": ("cdp", {"pk": "observation"}),
    "quartiers:valeur_update": ("cdp", {"pk": "valeur"}),
    "quartiers:valeur_delete": ("cdp", {"pk": "valeur"}),
    "cvu:action_list": ("cdp", {}),
    "cvu:action_create": ("cdp", {}),
    "cvu:action_detail": ("cdp", {"pk": "action"}),
    "cvu:action_update": ("cdp", {"pk": "action"}),
    "cvu:action_delete": ("cdp", {"pk": "action"}),
    "cvu:document_delete": ("cdp", {"pk": "document"}),
    "cvu:action_import": ("cdp", {}),
    "cvu:programme_list": ("cdp", {}),
    "cvu:programme_create": ("cdp", {}),
    "cvu:programme_detail": ("cdp", {"pk": "programme"}),
    "cvu:programme_update": ("cdp", {"pk": "programme"}),
    "cvu:organisation_list": ("cdp", {}),
    "cvu:organisation_create": ("cdp", {}),
    "cvu:organisation_detail": ("cdp", {"pk": "porteur"}),
    "cvu:organisation_update": ("cdp", {"pk": "porteur"}),
    "cvu:instance_list": ("cdp", {}),
    "cvu:instance_create": ("cdp", {}),
    "cvu:instance_detail": ("cdp", {"pk": "instance"}),
    "cvu:instance_update": ("cdp", {"pk": "instance"}),
    "cvu:dispositif_list": ("service", {}),
    "cvu:dispositif_create": ("service", {}),
    "cvu:dispositif_detail": ("cdp", {"pk": "dispositif"}),
    "cvu:dispositif_update": ("cdp", {"pk": "dispositif"}),
    "cvu:calendrier": ("cdp", {}),
    "cvu:calendrier_abonnement": ("cdp", {}),
    "cvu:reunion_create": ("cdp", {}),
    "cvu:reunion_detail": ("cdp", {"pk": "reunion"}),
    "cvu:reunion_update": ("cdp", {"pk": "reunion"}),
    "cvu:reunion_delete": ("cdp", {"pk": "reunion"}),
    "cvu:reunion_presences": ("cdp", {"pk": "reunion"}),
    "cvu:reunion_cloture": ("cdp", {"pk": "reunion"}),
    "cvu:suite_list": ("cdp", {}),
    "cvu:suite_update": ("cdp", {"pk": "suite"}),
    "cvu:aap_list": ("service", {}),
    "cvu:aap_create": ("service", {}),
    "cvu:mes_dossiers": ("cdp", {}),
    "cvu:aap_detail": ("service", {"pk": "appel"}),
    "cvu:aap_update": ("service", {"pk": "appel"}),
    "cvu:aap_import": ("service", {"pk": "appel"}),
    "cvu:comite_create": ("service", {"pk": "appel"}),
    "cvu:comite_detail": ("service", {"pk": "comite"}),
    "cvu:comite_update": ("service", {"pk": "comite"}),
    "cvu:dossier_instruction": ("cdp", {"pk": "dossier"}),
    "cvu:dossier_bilan": ("cdp", {"pk": "dossier_notifie"}),
    "cvu:intention_list": ("cdp", {}),
    "cvu:intention_create": ("cdp", {}),
    "cvu:intention_detail": ("cdp", {"pk": "intention"}),
    "cvu:intention_update": ("cdp", {"pk": "intention"}),
    "cvu:intention_delete": ("cdp", {"pk": "intention"}),
    "cvu:echange_create": ("cdp", {"pk": "porteur"}),
    "cvu:echange_update": ("cdp", {"pk": "echange"}),
    "cvu:echange_delete": ("cdp", {"pk": "echange"}),
    "cvu:piece_delete": ("cdp", {"pk": "piece"}),
    "cvu:donnees_essentielles": ("cdp", {}),
    "cvu:versement_schedule": ("service", {"pk": "ligne"}),
    "cvu:versement_add": ("service", {"pk": "ligne"}),
    "cvu:versement_record": ("service", {"pk": "versement"}),
    "cvu:versement_delete": ("service", {"pk": "versement"}),
    "cvu:reversement_request": ("service", {"pk": "ligne"}),
    "cvu:reversement_update": ("service", {"pk": "reversement"}),
    "cvu:contrat_list": ("cdp", {}),
    "cvu:contrat_detail": ("cdp", {"pk": "contrat"}),
    "participation:conseil_list": ("cdp", {}),
    "participation:conseil_create": ("cdp", {}),
    "participation:conseil_detail": ("cdp", {"pk": "conseil"}),
    "participation:conseil_update": ("cdp", {"pk": "conseil"}),
    "participation:membre_create": ("cdp", {"pk": "conseil"}),
    "participation:membre_import": ("cdp", {"pk": "conseil"}),
    "participation:membre_detail": ("cdp", {"pk": "membre"}),
    "participation:membre_update": ("cdp", {"pk": "membre"}),
    "participation:membre_erase": ("cdp", {"pk": "membre"}),
    "participation:demarche_list": ("cdp", {}),
    "participation:demarche_create": ("cdp", {}),
    "participation:demarche_detail": ("cdp", {"pk": "demarche"}),
    "participation:demarche_update": ("cdp", {"pk": "demarche"}),
    "participation:demarche_charte": ("cdp", {"pk": "demarche"}),
    "participation:charte": ("service", {}),
    "participation:charte_create": ("service", {}),
    "participation:cycle_list": ("cdp", {}),
    "participation:cycle_create": ("service", {}),
    "participation:cycle_detail": ("cdp", {"pk": "cycle"}),
    "participation:session_create": ("service", {"pk": "cycle"}),
    "participation:session_detail": ("cdp", {"pk": "session"}),
    "participation:steering_list": ("cdp", {}),
    "participation:steering_attendance": ("cdp", {"pk": "reunion"}),
    "reporting:home": ("cdp", {}),
    "reporting:tableau_de_bord": ("cdp", {}),
    "reporting:rapport_list": ("cdp", {}),
    "reporting:rapport_detail": ("cdp", {"pk": "rapport"}),
}

SKIPPED = {
    "healthz": "sonde technique en texte brut, pas une page",
    "favicon": "icône, pas une page",
    "comptes:logout": "POST seulement (bouton de l'en-tête, vérifié sur chaque page)",
    "cvu:document_upload": "POST seulement : le formulaire est sur la fiche action (visitée)",
    "cvu:document_download": "fichier téléchargé, pas une page",
    "cvu:piece_upload": "POST seulement : le formulaire est sur la fiche du porteur (visitée)",
    "cvu:piece_download": "fichier téléchargé, pas une page",
    "cvu:action_import_template": "modèle .xlsx téléchargé, pas une page",
    "cvu:programme_validate": "POST seulement : le bouton est sur la fiche programme (visitée)",
    "cvu:calendrier_ics": "flux iCalendar, pas une page",
    "cvu:reunion_ics": "fichier iCalendar, pas une page",
    "cvu:reunion_inviter": "POST seulement : le bouton est sur la fiche réunion (visitée)",
    "cvu:reunion_pdf": "PDF du compte rendu, pas une page",
    "cvu:reunion_pdf_build": "POST htmx seulement : le bouton est sur la fiche réunion (visitée)",
    "cvu:reunion_pdf_status": "fragment htmx inclus dans la fiche réunion (visitée)",
    "cvu:suite_done": "POST seulement : bouton des suites sur l'accueil, la réunion, la liste",
    "cvu:aap_assign": "POST seulement : le formulaire est sur la page de l'appel (visitée)",
    "cvu:dossier_statut": "POST seulement : le formulaire est sur la fiche action (visitée)",
    "cvu:dossier_notification": "PDF de notification, pas une page",
    "cvu:echange_done": "POST seulement : bouton des échanges sur l'accueil, le porteur, la fiche",
    "participation:membre_export": "export JSON des données d'un membre, pas une page",
    "reporting:rapport_retry": "POST seulement : le bouton est sur la page du rapport (visitée)",
    "reporting:rapport_download": "fichier du rapport, pas une page",
}
# The Django admin (namespace "admin") is Django's own pages and is not walked.


def _walk(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


ROUTES = sorted(set(_walk(get_resolver().url_patterns)))


def page_url(live_server, world, name: str) -> str:
    _, kwargs = PAGES[name]
    return live_server.url + reverse(name, kwargs={k: world[v] for k, v in kwargs.items()})
