"""Every page of the app, as the role entitled to it, at 1366×768 and at 375×667: each field
control a person should see has a usable size, is not clipped away by a scrolling or hidden
ancestor, and has an accessible name.

The pages come from the URL resolver: each named route is either visited (PAGES) or skipped
with its reason (SKIPPED), and a test fails when a new route is in neither. The page geometry is
only read (getBoundingClientRect, getComputedStyle); nothing is filled or revealed by script.
"""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import expect

from tests.conftest import chromium_path, require_live
from tests.cvu.aap_factories import AppelFactory, ComiteFactory, EnveloppeFactory
from tests.cvu.factories import (
    ActionFactory,
    ContactFactory,
    ContratFactory,
    FinancementFactory,
    IndicateurActionFactory,
    OrganisationFactory,
    ProgrammeFactory,
)
from tests.cvu.governance_factories import (
    DecisionFactory,
    InstanceFactory,
    ReunionFactory,
    SuiteADonnerFactory,
    TypeInstanceFactory,
)
from tests.quartiers.factories import ObservationFactory, ValeurIndicateurFactory
from tests.reporting.factories import RapportFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [(1366, 768), (375, 667)]

# Each visited route: the role that opens it and the URL kwargs taken from the `world` fixture.
# Roles: "cdp" chef de projet of the sector, "service" chef de service, "anonymous".
PAGES = {
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

# Reads the geometry and the accessible name of every field control that is rendered (controls
# in a closed <details>, a collapsed block or a [hidden] element have no box and are skipped).
CHECK_CONTROLS = """
() => {
  const FIELDS = 'input:not([type=hidden]):not([type=submit]):not([type=button])'
    + ':not([type=reset]):not([type=image]), select, textarea';
  const SMALL = new Set(['checkbox', 'radio', 'range', 'color']);
  const MIN_WIDTH = 48;
  const text = s => (s || '').replace(/\\s+/g, ' ').trim();
  const nameOf = el => {
    const ids = el.getAttribute('aria-labelledby');
    if (ids) {
      const s = text(ids.split(/\\s+/).map(id => {
        const target = document.getElementById(id);
        return target ? target.textContent : '';
      }).join(' '));
      if (s) return s;
    }
    const label = text(el.getAttribute('aria-label'));
    if (label) return label;
    const labels = text([...(el.labels || [])].map(l => l.textContent).join(' '));
    if (labels) return labels;
    return text(el.getAttribute('title'));
  };
  const describe = el => {
    const tag = el.tagName.toLowerCase();
    const type = tag === 'input' ? `[type=${el.type}]` : '';
    return `${tag}${type} name=${el.name || '?'} id=${el.id || '?'}`;
  };
  const where = el => {
    const cls = typeof el.className === 'string' && el.className ? '.' + el.className.trim()
      .split(/\\s+/).join('.') : '';
    return el.tagName.toLowerCase() + cls;
  };
  const problems = [];
  let checked = 0;
  const namesByTable = new Map();
  for (const el of document.querySelectorAll(FIELDS)) {
    if (el.getClientRects().length === 0) continue;  // display: none, here or above
    if (getComputedStyle(el).visibility === 'hidden') continue;
    checked += 1;
    const box = el.getBoundingClientRect();
    const small = el.tagName === 'INPUT' && SMALL.has(el.type);
    if (box.width < 1 || box.height < 1) {
      problems.push(`${describe(el)} : taille nulle (${box.width}×${box.height} px)`);
    } else if (!small && box.width < MIN_WIDTH) {
      problems.push(`${describe(el)} : trop étroit (${Math.round(box.width)} px)`);
    }
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const clip = a.getBoundingClientRect();
      if (clip.width < 1 || clip.height < 1) {
        problems.push(`${describe(el)} : rogné par ${where(a)} `
          + `(${Math.round(clip.width)}×${Math.round(clip.height)} px, overflow ${style.overflow})`);
        break;
      }
    }
    const name = nameOf(el);
    if (!name) {
      problems.push(`${describe(el)} : sans nom accessible`);
    } else if (name.includes('__')) {
      problems.push(`${describe(el)} : nom accessible non complété (« ${name} »)`);
    } else {
      const table = el.closest('[data-formset]');  // the rows of an inline formset
      if (table && el.type !== 'radio') {
        const names = namesByTable.get(table) || new Map();
        namesByTable.set(table, names);
        if (names.has(name)) {
          problems.push(`${describe(el)} : même nom accessible que ${names.get(name)} (« ${name} »)`);
        } else {
          names.set(name, describe(el));
        }
      }
    }
  }
  return {checked, problems};
}
"""


@pytest.fixture(autouse=True)
def _needs_chromium():
    require_live(None if chromium_path() else "Chromium est absent (paquet Debian chromium)")


@pytest.fixture
def world(editor, manager, secteur, commune, qpv):
    """One of each object a page needs, in the sector of `editor` (the chef de projet)."""
    from cvu.models import Action, DispositifConnexe, Document
    from participation.models import (
        Charte,
        ConseilCitoyen,
        CycleQualification,
        Demarche,
        Engagement,
        Membre,
        SessionFormation,
        TypeParticipation,
    )

    contrat = ContratFactory()
    porteur = OrganisationFactory(nom="Association Les Buis")
    ContactFactory(organisation=porteur, nom="Martin", prenom="Anne")
    financeur = OrganisationFactory(financeur_etat=True)
    programme = ProgrammeFactory(contrat=contrat, nom="Programme Montbéliard 2026", secteur=secteur)
    action = ActionFactory(contrat=contrat, porteur=porteur, qpvs=[qpv], referent=editor)
    FinancementFactory(action=action, financeur=financeur)
    IndicateurActionFactory(action=action)
    document = Document(action=action, nom="budget.pdf", content_type="application/pdf")
    document.taille = 4
    document.fichier.save("budget.pdf", ContentFile(b"%PDF"), save=False)
    document.save()

    appel = AppelFactory(contrat=contrat)
    EnveloppeFactory(appel=appel, financeur=financeur)
    dossier = ActionFactory(
        contrat=contrat, porteur=porteur, qpvs=[qpv], referent=editor, appel=appel
    )
    FinancementFactory(action=dossier, financeur=financeur)
    dossier_notifie = ActionFactory(
        contrat=contrat,
        porteur=porteur,
        qpvs=[qpv],
        referent=editor,
        appel=appel,
        statut=Action.Statut.NOTIFIE,
    )
    FinancementFactory(action=dossier_notifie, financeur=financeur, montant_vote=Decimal(4000))
    IndicateurActionFactory(action=dossier_notifie)
    comite = ComiteFactory(appel=appel)

    type_instance = TypeInstanceFactory(nom="Comité de pilotage", pilotage=True)
    instance = InstanceFactory(
        nom="GTC Montbéliard", type=type_instance, communale=True, communes=[commune]
    )
    reunion = ReunionFactory(
        instance=instance,
        tenue=True,
        debut=timezone.now() - timedelta(days=3),
        fin=timezone.now() - timedelta(days=3) + timedelta(hours=2),
    )
    DecisionFactory(reunion=reunion, action=action)
    suite = SuiteADonnerFactory(reunion=reunion, responsable=editor)
    dispositif = DispositifConnexe.objects.create(nom="PRE Montbéliard", type="pre")
    dispositif.communes.set([commune])

    type_participation = TypeParticipation.objects.create(nom="Conseil citoyen", sieges=6)
    conseil = ConseilCitoyen.objects.create(
        nom="Conseil citoyen de la Chiffogne", type=type_participation, commune=commune
    )
    conseil.qpvs.set([qpv])
    membre = Membre.objects.create(
        conseil=conseil,
        prenom="Inès",
        nom="Habitante",
        college="habitants",
        genre="femme",
        tranche_age="40_59",
        designation="volontaire",
        mandat_debut=date(2025, 1, 1),
        base_legale="mission_publique",
    )
    demarche = Demarche.objects.create(
        titre="Diagnostic en marchant des Buis",
        initiateur="commune",
        type="diagnostic_marchant",
        date_debut=date(2026, 3, 1),
        referent=editor,
    )
    demarche.communes.set([commune])
    charte = Charte.objects.create(
        version="1", texte="Charte de la participation.", date_adoption=date(2025, 6, 1)
    )
    Engagement.objects.create(charte=charte, ordre=1, libelle="Retour aux participants")
    cycle = CycleQualification.objects.create(annee=2026, titre="Cycle de qualification 2026")
    session = SessionFormation.objects.create(
        cycle=cycle, theme="Le rôle du conseil citoyen", date=timezone.now() + timedelta(days=10)
    )

    return {
        "cdp": editor,
        "service": manager,
        "uidb64": urlsafe_base64_encode(force_bytes(editor.pk)),
        "token": default_token_generator.make_token(editor),
        "qpv": qpv.pk,
        "code_insee": commune.code_insee,
        "observation": ObservationFactory(qpv=qpv, auteur=editor).pk,
        "valeur": ValeurIndicateurFactory(qpv=qpv).pk,
        "action": action.pk,
        "document": document.pk,
        "programme": programme.pk,
        "porteur": porteur.pk,
        "instance": instance.pk,
        "dispositif": dispositif.pk,
        "reunion": reunion.pk,
        "suite": suite.pk,
        "appel": appel.pk,
        "comite": comite.pk,
        "dossier": dossier.pk,
        "dossier_notifie": dossier_notifie.pk,
        "contrat": contrat.pk,
        "conseil": conseil.pk,
        "membre": membre.pk,
        "demarche": demarche.pk,
        "cycle": cycle.pk,
        "session": session.pk,
        "rapport": RapportFactory(demande_par=editor).pk,
    }


def _log_in_as(page, live_server, user) -> None:
    """The session of a logged-in user, handed to the browser (the login form has its own test)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def test_every_route_is_visited_or_skipped_with_a_reason():
    assert not set(PAGES) & set(SKIPPED)
    assert sorted(set(PAGES) | set(SKIPPED)) == ROUTES


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_field_control_is_visible_and_named(page, live_server, world, name):
    role, kwargs = PAGES[name]
    url = live_server.url + reverse(name, kwargs={k: world[v] for k, v in kwargs.items()})
    if role != "anonymous":
        _log_in_as(page, live_server, world[role])
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    report = []
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        response = page.goto(url)
        assert response.status == 200, f"{name} : réponse {response.status} pour {role}"
        if name != "comptes:password_reset_confirm":  # moves the token into the session
            assert page.url == url, f"{name} : redirigé vers {page.url}"
        result = page.evaluate(CHECK_CONTROLS)
        report += [f"{width} px — {problem}" for problem in result["problems"]]
        add_buttons = page.locator("[data-formset-add]")
        if add_buttons.count():
            # A line added by a person (static/js/formset.js) must be as usable as the others.
            for index in range(add_buttons.count()):
                add_buttons.nth(index).click()
            result = page.evaluate(CHECK_CONTROLS)
            report += [f"{width} px, ligne ajoutée — {problem}" for problem in result["problems"]]
    assert errors == [], f"{name} : erreurs JavaScript {errors}"
    assert report == [], f"{name} ({url}) :\n" + "\n".join(report)


def test_a_refused_line_shows_its_errors_on_the_line(page, live_server, world):
    """Closing a meeting with a follow-up lacking its owner and due date: the save is refused and
    the line says why, next to the controls, at both widths."""
    _log_in_as(page, live_server, world["cdp"])
    url = live_server.url + reverse("cvu:reunion_cloture", args=[world["reunion"]])
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(url)
        page.get_by_role("button", name="Ajouter une suite").click()
        page.get_by_label("Suite à donner – ligne 2").fill("Relancer le bailleur")
        page.get_by_role("button", name="Enregistrer").click()
        owner = page.get_by_label("Responsable (agent) – ligne 2")
        expect(owner).to_have_attribute("aria-invalid", "true")
        expect(owner).to_have_class(re.compile(r"\bis-invalid\b"))
        message = page.locator(f"#{owner.get_attribute('aria-describedby')}")
        expect(message).to_have_text("Indiquez un responsable : un agent ou un partenaire.")
        expect(page.get_by_label("Échéance – ligne 2")).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_label("Suite à donner – ligne 2")).to_have_value("Relancer le bailleur")
        if width < 768:  # the control may be scrolled sideways: the line repeats its errors
            row_message = page.locator("#suites-1-erreurs .formset-row-message")
            expect(row_message).to_contain_text("Ligne 2 : Responsable (agent) : Indiquez un")
            expect(row_message).to_be_visible()
            box = row_message.bounding_box()
            assert 0 <= box["x"] and box["x"] + box["width"] <= width
