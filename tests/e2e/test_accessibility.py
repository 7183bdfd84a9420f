"""Accessibility (RGAA 4.1 / WCAG 2.1 AA) and small screens, checked in the browser.

- axe-core (bundled by axe-playwright-python, no network) runs once on every page of the URL
  list (tests/e2e/routes.py) as each role that may open it; any critical or serious violation
  fails, and a page × rule table is printed.
- A keyboard journey, from the login form to a saved financing line, checks that the focused
  element shows an outline at each step.
- At 375 px, the main pages do not scroll sideways.
"""

import re
import time
from collections import Counter
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import expect

from tests.conftest import chromium_path, require_live
from tests.e2e.conftest import log_in_as
from tests.e2e.routes import PAGES, page_url

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

# "admin" sees what the chef de service sees, plus the administration link of the header: it is
# checked on the pages kept for managers.
ROLES = ["anonymous", "cdp", "service", "direction", "admin"]
ADMIN_PAGES = {"reporting:home"} | {name for name, (role, _) in PAGES.items() if role == "service"}
BLOCKING = {"critical", "serious"}
MAX_MINOR = 5

# The pages a person uses most, at 375 px (home, lists, detail pages, forms, call, committee,
# meeting, council).
MAIN_PAGES = [
    "reporting:home",
    "reporting:tableau_de_bord",
    "reporting:rapport_list",
    "cvu:action_list",
    "cvu:action_detail",
    "cvu:action_update",
    "cvu:programme_list",
    "cvu:programme_detail",
    "cvu:organisation_list",
    "cvu:instance_list",
    "cvu:instance_detail",
    "cvu:suite_list",
    "cvu:calendrier",
    "cvu:aap_list",
    "cvu:aap_detail",
    "cvu:comite_detail",
    "cvu:reunion_detail",
    "cvu:reunion_presences",
    "cvu:reunion_cloture",
    "cvu:contrat_detail",
    "participation:conseil_list",
    "participation:conseil_detail",
    "participation:demarche_list",
    "quartiers:qpv_list",
    "quartiers:qpv_detail",
    "accessibilite",
]

# The elements that stick out to the right of the viewport, not clipped by a scrolling box.
OVERFLOWING = """
() => {
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.getBoundingClientRect().right <= window.innerWidth + 0.5) continue;
    let clipped = false;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') { clipped = true; break; }
    }
    if (clipped || [...el.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 0.5)) continue;
    const cls = typeof el.className === 'string' ? el.className.trim().split(/\\s+/).join('.') : '';
    out.push(`${el.tagName.toLowerCase()}${cls ? '.' + cls : ''} (${Math.round(el.getBoundingClientRect().right)} px)`);
  }
  return out.slice(0, 8);
}
"""

# The focused element's outline, as drawn (theme.css: 2 px, at least 3:1).
FOCUS_OUTLINE = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    name: (el.getAttribute('aria-label') || el.textContent || el.name || '').trim().slice(0, 40),
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
  };
}
"""


@pytest.fixture(autouse=True)
def _needs_chromium():
    require_live(None if chromium_path() else "Chromium est absent (paquet Debian chromium)")


def _table(rows: list[tuple[str, str, str, str, int]]) -> str:
    """Page × rule: one line per role, page and rule, with its impact and number of nodes."""
    lines = [f"{'rôle':<10} {'page':<36} {'règle':<28} {'impact':<9} nœuds"]
    lines += [f"{r:<10} {p:<36} {rule:<28} {i:<9} {n}" for r, p, rule, i, n in rows]
    return "\n".join(lines)


def _pages_of(role: str) -> list[str]:
    if role == "anonymous":
        return sorted(name for name, (r, _) in PAGES.items() if r == "anonymous")
    names = ADMIN_PAGES if role == "admin" else PAGES
    return sorted(name for name in names if PAGES[name][0] != "anonymous")


def test_no_critical_or_serious_violation_on_any_page_for_any_role(page, live_server, world):
    axe = Axe()
    rows = []
    visited = Counter()
    started = time.monotonic()
    page.set_viewport_size({"width": 1366, "height": 768})
    for role in ROLES:
        page.context.clear_cookies()
        if role != "anonymous":
            log_in_as(page, live_server, world[role])
        for name in _pages_of(role):
            url = page_url(live_server, world, name)
            response = page.goto(url)
            if response.status != 200 or page.url.split("?")[0] != url.split("?")[0]:
                continue  # not open to this role (403, 404 or a redirection)
            visited[role] += 1
            for violation in axe.run(page).response["violations"]:
                nodes = len(violation["nodes"])
                rows.append((role, name, violation["id"], violation["impact"], nodes))
    impacts = Counter()
    for *_, impact, nodes in rows:
        impacts[impact] += nodes
    print(f"\naxe-core sur {sum(visited.values())} pages en {time.monotonic() - started:.0f} s")
    print(f"Pages auditées par rôle : {dict(visited)}")
    print(f"Nœuds en infraction par impact : {dict(impacts)}")
    print(_table(rows))
    blocking = [row for row in rows if row[3] in BLOCKING]
    assert not blocking, "Infractions critiques ou graves :\n" + _table(blocking)
    assert impacts["minor"] <= MAX_MINOR, "Trop d'infractions mineures :\n" + _table(rows)


@pytest.mark.parametrize("name", MAIN_PAGES)
def test_main_pages_do_not_scroll_sideways_at_375_px(page, live_server, world, name):
    role = PAGES[name][0]
    if role != "anonymous":
        log_in_as(page, live_server, world[role])
    page.set_viewport_size({"width": 375, "height": 667})
    response = page.goto(page_url(live_server, world, name))
    assert response.status == 200
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, (
        f"{name} : la page défile en largeur ({width} px pour 375) : {page.evaluate(OVERFLOWING)}"
    )


def _tab_to(page, locator, *, backwards=False, limit=60) -> list[dict]:
    """Presses Tab until `locator` has the focus; returns the focus outline of each step."""
    steps = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        steps.append(page.evaluate(FOCUS_OUTLINE))
        if locator.evaluate("el => el === document.activeElement"):
            return steps
    raise AssertionError(f"{locator} jamais atteint au clavier")


def _assert_visible_focus(steps: list[dict]) -> None:
    invisible = [s for s in steps if s and (s["style"] == "none" or s["width"] < 2)]
    assert not invisible, f"Focus sans contour visible : {invisible}"


def test_keyboard_journey_to_a_saved_financing_line(page, live_server, world):
    """Log in, open the menu, reach the action list, open an action, edit a financing line and
    save, with the keyboard only; every focused element shows a 2 px outline."""
    from cvu.models import Action, Financement

    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(live_server.url + reverse("comptes:login"))
    _assert_visible_focus(_tab_to(page, page.get_by_label("Adresse e-mail")))
    page.keyboard.type(world["cdp"].email)
    _assert_visible_focus(_tab_to(page, page.get_by_label("Mot de passe")))
    page.keyboard.type("motdepasse-solide-42")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + reverse("reporting:home"))

    menu = page.get_by_role("button", name="Contrat")
    _assert_visible_focus(_tab_to(page, menu))
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("link", name="Actions", exact=True)).to_be_focused()
    _assert_visible_focus([page.evaluate(FOCUS_OUTLINE)])
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/actions/$"))

    action = Action.objects.get(pk=world["action"])
    _assert_visible_focus(_tab_to(page, page.get_by_role("link", name=action.titre)))
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + action.get_absolute_url())
    _assert_visible_focus(_tab_to(page, page.get_by_role("link", name="Modifier", exact=True)))
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + reverse("cvu:action_update", args=[action.pk]))

    amount = page.get_by_label("Demandé (€) – ligne 1")
    _assert_visible_focus(_tab_to(page, amount))
    page.keyboard.press("Control+A")
    page.keyboard.type("6 250,50")
    _assert_visible_focus(_tab_to(page, page.get_by_role("button", name="Enregistrer")))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Action enregistrée.")).to_be_visible()
    line = Financement.objects.get(action=action)
    assert line.montant_demande == Decimal("6250.50")
