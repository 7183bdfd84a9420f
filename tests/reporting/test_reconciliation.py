"""One set of figures: the dashboard, the call page, the programming export (xlsx) and the bilan
de programmation (PDF) give the same amounts to the cent, per funder, axe, QPV and status, on a
generated dataset and on the demo; a funder's drill-down totals that funder's lines only."""

import io
import random
import subprocess
from collections import defaultdict
from datetime import date
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from comptes.demo import demo_users
from core.templatetags.formats import euros
from cvu import figures, payments
from cvu.demo import demo_appels, demo_contrat
from cvu.models import Action, AppelAProjets, ContratDeVille, Financement, Versement
from quartiers.demo import demo_territoire
from reporting import rapports
from reporting.models import Rapport
from tests.cvu.aap_factories import AppelFactory, EnveloppeFactory
from tests.cvu.factories import (
    ActionFactory,
    ContratFactory,
    FinancementFactory,
    NoeudFactory,
    OrganisationFactory,
)
from tests.quartiers.factories import CommuneFactory, QpvFactory

pytestmark = pytest.mark.django_db
S = Action.Statut
ZERO = Decimal("0.00")
AMOUNTS = ("demande", "propose", "vote", "verse")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# ---------------------------------------------------------------- datasets


def generated() -> tuple[ContratDeVille, int]:
    """A 2026 call with every awkward case: refused and withdrawn dossiers keeping a voted
    amount, dossiers outside the call, a multi-year action, lines of other years and of another
    contract, a funder without envelope, an envelope without lines, cents everywhere."""
    rng = random.Random(11)
    contrat = ContratFactory()
    axes = [NoeudFactory(contrat=contrat, code=str(n), libelle=f"Axe {n}") for n in (1, 2, 3)]
    objectifs = [
        NoeudFactory(contrat=contrat, parent=axe, niveau="objectif", code=f"{axe.code}.1")
        for axe in axes
    ]
    communes = [
        CommuneFactory(code_insee="25388", nom="Montbéliard"),
        CommuneFactory(code_insee="25031", nom="Audincourt"),
    ]
    qpvs = [
        QpvFactory(nom="Petite-Hollande", communes=[communes[0]]),
        QpvFactory(nom="Champs-Montants", communes=[communes[1]]),
        QpvFactory(nom="Les Buis", communes=communes),
    ]
    funders = [
        OrganisationFactory(nom="Préfecture du Doubs – BOP 147", sigle="DDETS", type="etat"),
        OrganisationFactory(nom="CAF du Doubs", type="autre"),
        OrganisationFactory(nom="Pays de Montbéliard Agglomération", sigle="PMA", type="epci"),
        OrganisationFactory(nom="Région Bourgogne-Franche-Comté", type="region"),
    ]
    appel = AppelFactory(contrat=contrat, annee=2026)
    for funder, amount in zip(funders[:3], ("25000.00", "8000.50", "12345.67"), strict=True):
        EnveloppeFactory(appel=appel, financeur=funder, montant=Decimal(amount))
    EnveloppeFactory(appel=appel, financeur=OrganisationFactory(nom="Fondation sans dossier"))

    def cents(low, high) -> Decimal:
        return Decimal(rng.randint(low * 100, high * 100)) / 100

    statuses = list(S.values)
    for n in range(36):
        statut = statuses[n % len(statuses)]
        multi = n % 9 == 4
        action = ActionFactory(
            contrat=contrat,
            titre=f"Dossier {n:02d}",
            statut=statut,
            appel=appel if n % 5 else None,  # one in five financed outside the call
            annee=2025 if multi else 2026,
            annee_fin=2027 if multi else None,
            qpvs=rng.sample(qpvs, rng.randint(0, 2)),
        )
        action.objectifs.set(rng.sample(objectifs, rng.randint(0, 2)))
        for funder in rng.sample(funders, rng.randint(0, 3)):
            demande = cents(500, 9000)
            vote = cents(100, int(demande)) if rng.random() < 0.8 else None
            line = FinancementFactory(
                action=action,
                financeur=funder,
                annee=2026,
                montant_demande=demande,
                montant_propose=cents(100, int(demande)) if rng.random() < 0.5 else None,
                montant_vote=vote,
            )
            if vote:  # half paid, by one payment (on refused dossiers too: awkward case)
                Versement.objects.create(
                    financement=line,
                    nature=Versement.Nature.AVANCE,
                    montant=(vote / 2).quantize(Decimal("0.01")),
                    date_versement=date(2026, 3, 2),
                    numero_mandat=f"M-{n}-{funder.pk}",
                )
                payments.refresh_paid(line)
        if multi:
            FinancementFactory(
                action=action, financeur=funders[0], annee=2025, montant_demande=cents(1, 999)
            )
    other = ActionFactory(contrat=ContratFactory(nom="Autre contrat"), qpvs=[qpvs[0]])
    FinancementFactory(action=other, financeur=funders[0], montant_vote=Decimal("777.77"))
    return contrat, 2026


def expected(contrat, annee) -> dict:
    """The rules of the README, computed from the raw lines: the truth the screens must show.
    Paid is the sum of the lines' paid instalments (cvu.payments), not the stored total."""
    result = {"financeurs": defaultdict(lambda: dict.fromkeys(AMOUNTS, ZERO))}
    total = dict.fromkeys(AMOUNTS, ZERO)
    paid = dict(
        Versement.objects.payes()
        .filter(financement__action__contrat=contrat, financement__annee=annee)
        .order_by()
        .values("financement")
        .annotate(total=Sum("montant"))
        .values_list("financement", "total")
    )
    for line in Financement.objects.filter(action__contrat=contrat, annee=annee).select_related(
        "action", "financeur"
    ):
        counted = line.action.statut not in (S.REFUSE, S.RETIRE)
        amounts = {
            "demande": line.montant_demande,
            "propose": line.montant_propose or ZERO,
            "vote": (line.montant_vote or ZERO) if counted else ZERO,
            "verse": paid.get(line.pk, ZERO),
        }
        for name in AMOUNTS:
            result["financeurs"][line.financeur.nom][name] += amounts[name]
            total[name] += amounts[name]
    result["total"] = total
    return result


# ---------------------------------------------------------------- what each screen shows


class Tables(HTMLParser):
    """The text of each cell of each table with an id, row by row."""

    def __init__(self):
        super().__init__()
        self.tables, self.current, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self.current = self.tables.setdefault(attrs["id"], [])
        elif tag == "tr" and self.current is not None:
            self.row = []
            self.current.append(self.row)
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "table":
            self.current = self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def clean(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def money(value) -> str:
    return clean(euros(value))


def dashboard_figures(client, contrat, annee) -> dict:
    response = client.get(
        reverse("reporting:tableau_de_bord"), {"contrat": contrat.pk, "annee": annee}
    )
    assert response.status_code == 200
    sections = {s.key: s for s in response.context["sections"]}
    figures = {
        "total": response.context["totals"],
        "financeurs": {r.label: r.values for r in sections["financeurs"].rows},
        "axes": {r.label: r.values for r in sections["axes"].rows},
        "qpv": {r.label: r.values for r in sections["qpv"].rows},
        "statuts": {r.label: r.values for r in sections["statuts"].rows},
        "sections": sections,
    }
    # The page says the same as its context: each funder's row, in full, in euros to the cent.
    parser = Tables()
    parser.feed(response.content.decode())
    shown = {row[0]: row[1:] for row in parser.tables["tableau-financeurs"][1:]}
    for row in sections["financeurs"].rows:
        label = row.label + (f" ({row.abbr})" if row.abbr else "")
        cells = next(cells for text, cells in shown.items() if text.startswith(label))
        assert clean(cells[2]) == money(row.values["vote"]), label
        assert clean(cells[1]) == money(row.values["demande"]), label
    return figures


def call_page_figures(client, appel) -> dict:
    response = client.get(reverse("cvu:aap_detail", args=[appel.pk]))
    assert response.status_code == 200
    return {
        "financeurs": {line.financeur.nom: line for line in response.context["envelopes"]},
        "statuts": {row["label"]: row for row in response.context["par_statut"]},
        "total": response.context["total"],
    }


def export_figures(client, appel, funders) -> dict:
    response = client.get(reverse("cvu:aap_detail", args=[appel.pk]), {"export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    rows = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]

    def dec(value) -> Decimal:
        return ZERO if value in (None, "") else Decimal(str(value)).quantize(Decimal("0.01"))

    result = {
        "financeurs": {},
        "axes": defaultdict(lambda: dict.fromkeys(AMOUNTS, ZERO)),
        "qpv": defaultdict(lambda: dict.fromkeys(AMOUNTS, ZERO)),
        "statuts": defaultdict(lambda: {"nombre": 0, **dict.fromkeys(AMOUNTS, ZERO)}),
        "total": {
            "demande": sum((dec(r["Total demandé"]) for r in rows), ZERO),
            "vote": sum((dec(r["Total voté"]) for r in rows), ZERO),
            "verse": sum((dec(r["Total versé"]) for r in rows), ZERO),
        },
    }
    for funder in funders:
        name = funder.sigle or funder.nom
        result["financeurs"][funder.nom] = {
            field: sum((dec(r[f"{name} {header}"]) for r in rows), ZERO)
            for field, header in (
                ("demande", "demandé"),
                ("propose", "proposé"),
                ("vote", "voté"),
                ("verse", "versé"),
            )
        }
    for row in rows:
        amounts = {
            "demande": dec(row["Total demandé"]),
            "vote": dec(row["Total voté"]),
            "verse": dec(row["Total versé"]),
        }
        for key, column in (("axes", "Axes"), ("qpv", "QPV")):
            for name in filter(None, (row[column] or "").split(" ; ")):
                for field, value in amounts.items():
                    result[key][name][field] += value
        status = result["statuts"][row["Statut"]]
        status["nombre"] += 1
        for field, value in amounts.items():
            status[field] += value
    return result


def pdf_lines(contrat, annee, user) -> list[str]:
    rapport = Rapport.objects.create(
        type="programmation",
        titre="Bilan",
        parametres={"contrat": contrat.pk, "annee": annee},
        demande_par=user,
    )
    rapports.build_report(rapport.pk)
    rapport.refresh_from_db()
    assert rapport.statut == "pret", rapport.erreur
    text = subprocess.run(
        ["pdftotext", "-layout", rapport.fichier.path, "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [clean(line) for line in text.splitlines() if line.strip()]


def in_pdf(lines: list[str], section, row) -> bool:
    """The row's first words and its amounts, in the section's column order, on one line (a long
    name may wrap below its amounts)."""
    cells = []
    for value, kind, _ in next(cells for shown, cells in section.table if shown is row):
        if value is None:
            cells.append("—")
        elif kind == "euros":
            cells.append(money(value))
        elif kind == "percent":
            cells.append(f"{value} %")
        else:
            cells.append(str(value))
    first_word = row.label.split()[0]
    expected = " ".join(cells).replace(" %", "%")  # pdftotext may drop the space before %
    return any(
        line.startswith(first_word) and expected in line.replace(" %", "%") for line in lines
    )


# ---------------------------------------------------------------- the reconciliation


def reconcile(client, user, contrat, annee) -> dict:
    appel = AppelAProjets.objects.get(contrat=contrat, annee=annee)
    client.force_login(user)
    dashboard = dashboard_figures(client, contrat, annee)
    page = call_page_figures(client, appel)
    funders = [line.financeur for line in page["financeurs"].values()]
    export = export_figures(client, appel, funders)
    truth = expected(contrat, annee)

    # Per funder: the rules, the dashboard, the call page and the export agree to the cent.
    assert set(dashboard["financeurs"]) == set(page["financeurs"]) == set(export["financeurs"])
    for name, values in dashboard["financeurs"].items():
        line = page["financeurs"][name]
        truth_row = truth["financeurs"].get(name, dict.fromkeys(AMOUNTS, ZERO))
        for field in ("demande", "vote", "verse"):
            assert values[field] == truth_row[field] == export["financeurs"][name][field], (
                name,
                field,
            )
        assert line.demande == values["demande"] and line.vote == values["vote"], name
        assert line.propose == truth_row["propose"] == export["financeurs"][name]["propose"]
        assert values["reste"] == line.reste and values["taux"] == line.taux, name
    # Totals.
    for field in ("demande", "vote", "verse"):
        assert (
            dashboard["total"][field]
            == truth["total"][field]
            == getattr(page["total"], field)
            == export["total"][field]
        ), field
    # Per axe and per QPV: the dashboard and the export (each dossier in each of its groups).
    for key in ("axes", "qpv"):
        assert set(dashboard[key]) == set(export[key]), key
        for name, values in dashboard[key].items():
            for field in ("demande", "vote", "verse"):
                assert values[field] == export[key][name][field], (key, name, field)
    # Per status: the dashboard, the call page and the export, count of dossiers included.
    assert set(dashboard["statuts"]) == set(page["statuts"]) == set(export["statuts"])
    for name, values in dashboard["statuts"].items():
        for field in ("nombre", "demande", "vote", "verse"):
            assert values[field] == page["statuts"][name][field] == export["statuts"][name][field]
    refused = dashboard["statuts"].get(S.REFUSE.label)
    assert refused is None or refused["vote"] == ZERO
    # The PDF report prints every row of the same sections with the same amounts.
    lines = pdf_lines(contrat, annee, user)
    for key in ("financeurs", "axes", "qpv", "statuts"):
        section = dashboard["sections"][key]
        for row in section.rows:
            assert in_pdf(lines, section, row), (key, row.label)
    return dashboard


def test_generated_dataset_reconciles_everywhere(client, manager):
    contrat, annee = generated()
    dashboard = reconcile(client, manager, contrat, annee)
    # The dataset does hold the awkward cases.
    statuts = dashboard["statuts"]
    assert statuts[S.REFUSE.label]["vote"] == ZERO and statuts[S.RETIRE.label]["nombre"]
    assert Financement.objects.filter(
        action__statut=S.REFUSE, action__contrat=contrat, montant_vote__gt=0
    ).exists()
    assert Action.objects.filter(contrat=contrat, appel__isnull=True).exists()
    assert dashboard["financeurs"]["Région Bourgogne-Franche-Comté"]["enveloppe"] is None
    assert dashboard["financeurs"]["Fondation sans dossier"]["vote"] == ZERO


def test_demo_data_reconciles_everywhere(client):
    call_command("load_territoire", stdout=StringIO())
    users = demo_users(password="demo")
    demo_territoire(users=users)
    demo_contrat(users=users)
    demo_appels(users=users)
    appel = AppelAProjets.objects.order_by("annee").filter(annee=2025).get()
    dashboard = reconcile(client, users["service"], appel.contrat, 2025)
    # Outside the call, the demo's dossiers without a Dauphin number count too.
    assert Action.objects.filter(contrat=appel.contrat, annee=2025, appel__isnull=True).exists()
    overruns = [row for row in dashboard["sections"]["financeurs"].rows if row.alert]
    assert overruns and all("dépassée de" in row.alert for row in overruns)


# ---------------------------------------------------------------- drill-down


def test_each_row_opens_a_list_totalling_the_same_amounts(client, manager):
    contrat, annee = generated()
    client.force_login(manager)
    response = client.get(
        reverse("reporting:tableau_de_bord"), {"contrat": contrat.pk, "annee": annee}
    )
    sections = {s.key: s for s in response.context["sections"]}
    for key in ("financeurs", "axes", "qpv", "communes", "statuts"):
        for row in sections[key].rows:
            if not row.url:  # an envelope without any line: nothing to list
                assert key == "financeurs" and row.label == "Fondation sans dossier"
                continue
            listing = client.get(row.url)
            totals = listing.context["totals"]
            for field in ("demande", "vote", "verse"):
                assert totals[field] == row.values[field], (key, row.label, field)
            if key == "financeurs":
                # Rows show that funder's amounts too, and the page says so.
                rows = listing.context["page_obj"].object_list
                assert sum((a.total_vote for a in rows), ZERO) == row.values["vote"]
                html = clean(unescape(listing.content.decode()))
                assert f"Total voté</div><strong>{money(row.values['vote'])}" in html
                assert f"Montants de {row.label} pour l'exercice {annee}" in html


def test_funder_drill_down_excludes_the_cofunders(client, manager, data):
    """A dossier financed by the État and PMA: the État's list totals the État's line only."""
    x, _, _ = data["actions"]
    client.force_login(manager)
    listing = client.get(
        reverse("cvu:action_list"),
        {"contrat": data["contrat"].pk, "annee": 2026, "financeur": data["etat"].pk},
    )
    assert listing.context["totals"]["demande"] == Decimal("1200.30")  # not 1 700,30 €
    row = next(a for a in listing.context["page_obj"] if a.pk == x.pk)
    assert row.total_demande == Decimal("1000.10")  # X's État line, not its PMA line
    pma = client.get(
        reverse("cvu:action_list"),
        {"contrat": data["contrat"].pk, "annee": 2026, "financeur": data["pma"].pk},
    )
    assert [a.titre for a in pma.context["page_obj"]] == ["X"]
    assert pma.context["totals"]["demande"] == Decimal("500.00")


# ---------------------------------------------------------------- the dashboard's controls


def test_year_is_a_list_of_existing_years_defaulting_to_the_latest_call(client, manager, data):
    AppelFactory(contrat=data["contrat"], annee=2025)  # data holds the 2026 call
    client.force_login(manager)
    response = client.get(reverse("reporting:tableau_de_bord"), {"contrat": data["contrat"].pk})
    assert response.context["scope"].annee == 2026
    html = response.content.decode()
    assert '<select name="annee"' in html
    parser_years = response.context["form"].fields["annee"].widget.choices
    assert [value for value, _ in parser_years] == ["2026", "2025"]


def test_votes_being_entered_count_as_if_they_were_saved(data):
    """The committee's live envelopes (voted_override) give the figures the votes will give once
    saved: per funder, per dossier, per line and in total, to the cent."""
    x, y, _ = data["actions"]
    line_x = Financement.objects.get(action=x, financeur=data["etat"])
    line_y = Financement.objects.get(action=y, financeur=data["etat"])
    override = {line_x.pk: Decimal("700.40"), line_y.pk: None}
    live = figures.Chiffres(data["contrat"], 2026, voted_override=override)
    snapshot = (
        [(r.key, r.vote, r.lignes) for r in live.par_financeur],
        {pk: m.as_dict() for pk, m in live.par_action.items()},
        {key: m.as_dict() for key, m in live.par_ligne.items()},
        live.total.as_dict(),
    )
    assert snapshot[3]["vote"] == Decimal("700.40")  # 900.05 → 700.40, 200.20 → nothing
    Financement.objects.filter(pk=line_x.pk).update(montant_vote=Decimal("700.40"))
    Financement.objects.filter(pk=line_y.pk).update(montant_vote=None)
    saved = figures.Chiffres(data["contrat"], 2026)
    assert snapshot == (
        [(r.key, r.vote, r.lignes) for r in saved.par_financeur],
        {pk: m.as_dict() for pk, m in saved.par_action.items()},
        {key: m.as_dict() for key, m in saved.par_ligne.items()},
        saved.total.as_dict(),
    )


def test_a_year_with_only_a_financing_line_is_offered(client, manager, data):
    """A line outside its action's year (a CPO's later exercice entered on the first year's
    dossier) still makes its year one of the dashboard's."""
    FinancementFactory(action=data["actions"][0], financeur=data["pma"], annee=2028)
    client.force_login(manager)
    response = client.get(reverse("reporting:tableau_de_bord"), {"contrat": data["contrat"].pk})
    years = [value for value, _ in response.context["form"].fields["annee"].widget.choices]
    assert years == ["2028", "2026", "2025"]


def test_overruns_are_flagged_in_words(client, manager, data):
    Financement.objects.filter(action=data["actions"][0], financeur=data["etat"]).update(
        montant_vote=Decimal("6000.00")
    )
    client.force_login(manager)
    response = client.get(
        reverse("reporting:tableau_de_bord"), {"contrat": data["contrat"].pk, "annee": 2026}
    )
    html = clean(response.content.decode())
    assert "1 enveloppe dépassée" in html
    assert "Enveloppe dépassée de 1 200,20 €" in html  # 6 000 + 200,20 − 5 000
    assert "124 %" in html and "-1 200,20 €" in html
    assert 'class="table-responsive dashboard-table"' not in html  # no inner scroll box
    assert '<abbr title="Préfecture">État</abbr>' in html


def test_call_page_and_export_query_counts_do_not_grow(client, manager):
    appel = AppelFactory()
    etat = OrganisationFactory(type="etat")
    EnveloppeFactory(appel=appel, financeur=etat)
    qpv = QpvFactory(
        nom="Les Buis", communes=[CommuneFactory(code_insee="25580", nom="Valentigney")]
    )
    axe = NoeudFactory(contrat=appel.contrat)

    def grow(n):
        for i in range(n):
            action = ActionFactory(
                contrat=appel.contrat, appel=appel if i % 2 else None, qpvs=[qpv]
            )
            action.objectifs.set([axe])
            FinancementFactory(action=action, financeur=etat, montant_vote=Decimal("10.01"))
            FinancementFactory(action=action, financeur=OrganisationFactory(), montant_demande=1)

    def count(**params):
        with CaptureQueriesContext(connection) as context:
            assert client.get(reverse("cvu:aap_detail", args=[appel.pk]), params).status_code == 200
        return len(context.captured_queries)

    client.force_login(manager)
    grow(2)
    small = count(), count(export="xlsx")
    grow(10)
    assert (count(), count(export="xlsx")) == small
