"""Every page of the app, as the role entitled to it, at 1366×768 and at 375×667: each field
control a person should see has a usable size, is not clipped away by a scrolling or hidden
ancestor, and has an accessible name.

The pages come from the URL resolver: each named route is either visited (PAGES) or skipped
with its reason (SKIPPED), and a test fails when a new route is in neither. The page geometry is
only read (getBoundingClientRect, getComputedStyle); nothing is filled or revealed by script.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.conftest import chromium_path, require_live
from tests.e2e.conftest import log_in_as
from tests.e2e.routes import PAGES, ROUTES, SKIPPED

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [(1366, 768), (375, 667)]

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


def test_every_route_is_visited_or_skipped_with_a_reason():
    assert not set(PAGES) & set(SKIPPED)
    assert sorted(set(PAGES) | set(SKIPPED)) == ROUTES


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_field_control_is_visible_and_named(page, live_server, world, name):
    role, kwargs = PAGES[name]
    url = live_server.url + reverse(name, kwargs={k: world[v] for k, v in kwargs.items()})
    if role != "anonymous":
        log_in_as(page, live_server, world[role])
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
                table = page.locator("[data-formset]:has([data-formset-add])").nth(index)
                button = table.locator("[data-formset-add]")
                body = table.locator("tbody[data-formset-body] > tr")
                before = body.count()
                button.click()
                if body.count() <= before:
                    report.append(f"{width} px : « {button.inner_text().strip()} » n'ajoute rien")
            result = page.evaluate(CHECK_CONTROLS)
            report += [f"{width} px, ligne ajoutée — {problem}" for problem in result["problems"]]
    assert errors == [], f"{name} : erreurs JavaScript {errors}"
    assert report == [], f"{name} ({url}) :\n" + "\n".join(report)


def test_a_refused_line_shows_its_errors_on_the_line(page, live_server, world):
    """Closing a meeting with a follow-up lacking its owner and due date: the save is refused and
    the line says why, next to the controls, at both widths."""
    log_in_as(page, live_server, world["cdp"])
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
