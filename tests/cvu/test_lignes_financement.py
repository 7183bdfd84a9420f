"""Issue #16, rule 5: envelopes and financing lines may name a funder's funding line (the State's
BOP 147: contrat de ville call, Quartiers d'été…), and each line is followed and reported on its
own: call page, committee, dashboard and export agree."""

from decimal import Decimal

import pytest
from django.urls import reverse

from cvu import aap
from cvu.models import Action, Financement, LigneFinancement
from reporting.dashboard import Scope, by_funder
from tests.cvu.aap_factories import ComiteFactory, EnveloppeFactory
from tests.cvu.factories import ActionFactory, FinancementFactory

pytestmark = pytest.mark.django_db

S = Action.Statut


@pytest.fixture
def lignes(etat, pma):
    return {
        "qe": LigneFinancement.objects.create(financeur=etat, libelle="Quartiers d'été", code="QE"),
        "cite": LigneFinancement.objects.create(financeur=etat, libelle="Cités éducatives"),
        "pma": LigneFinancement.objects.create(financeur=pma, libelle="Fonds de quartier"),
    }


@pytest.fixture
def programmation(appel, etat, lignes, editor, qpv):
    """The call has the State's general envelope (50 000 €) and a Quartiers d'été one (10 000 €)."""
    EnveloppeFactory(appel=appel, financeur=etat, ligne=lignes["qe"], montant=Decimal("10000"))
    dossiers = {}
    for name, ligne, vote in (
        ("general", None, "20000"),
        ("ete", lignes["qe"], "12000"),
        ("cite", lignes["cite"], "4000"),
    ):
        action = ActionFactory(
            contrat=appel.contrat,
            appel=appel,
            annee=appel.annee,
            titre=name,
            statut=S.PROGRAMME,
            referent=editor,
            qpvs=[qpv],
        )
        FinancementFactory(
            action=action,
            financeur=etat,
            ligne=ligne,
            annee=appel.annee,
            montant_demande=Decimal(vote),
            montant_vote=Decimal(vote),
        )
        dossiers[name] = action
    return dossiers


def test_each_funding_line_counts_against_its_own_envelope(appel, programmation, lignes):
    rows = {line.libelle: line for line in aap.envelopes(appel)}
    general = rows["Préfecture du Doubs – BOP 147"]
    ete = rows["Préfecture du Doubs – BOP 147 – Quartiers d'été"]
    cite = rows["Préfecture du Doubs – BOP 147 – Cités éducatives"]
    assert (general.montant, general.vote, general.reste, general.depasse) == (
        Decimal("50000"),
        Decimal("20000"),
        Decimal("30000"),
        False,
    )
    assert (ete.montant, ete.vote, ete.reste, ete.depasse) == (
        Decimal("10000"),
        Decimal("12000"),
        Decimal("-2000"),
        True,
    )
    assert (cite.montant, cite.vote) == (None, Decimal("4000"))  # no envelope: shown apart
    assert (ete.abrege, ete.cle) == (
        f"{ete.financeur.nom} – QE",
        f"{ete.financeur.pk}-{lignes['qe'].pk}",
    )
    # Envelopes first (the State's general one before its lines), then the rest.
    assert [line.libelle for line in aap.envelopes(appel)][:3] == [
        "Pays de Montbéliard Agglomération (PMA)",
        "Préfecture du Doubs – BOP 147",
        "Préfecture du Doubs – BOP 147 – Quartiers d'été",
    ]


def test_call_page_dashboard_committee_and_export_agree(
    client, manager, appel, programmation, lignes
):
    client.force_login(manager)
    page = client.get(appel.get_absolute_url())
    assert "Préfecture du Doubs – BOP 147 – Quartiers d&#x27;été" in page.content.decode()
    section = by_funder(Scope(contrat=appel.contrat, annee=appel.annee))
    dashboard = {row.label: row.values for row in section.rows}
    ete = dashboard["Préfecture du Doubs – BOP 147 – Quartiers d'été"]
    assert (ete["enveloppe"], ete["vote"], ete["reste"]) == (
        Decimal("10000"),
        Decimal("12000"),
        Decimal("-2000"),
    )
    assert any("Quartiers d'été" in row.label and row.alert for row in section.rows)
    comite = ComiteFactory(appel=appel)
    comite.dossiers.set(programmation.values())
    columns = client.get(comite.get_absolute_url()).context["columns"]
    assert [c.libelle for c in columns if c.financeur == lignes["qe"].financeur] == [
        "Préfecture du Doubs – BOP 147",
        "Préfecture du Doubs – BOP 147 – Quartiers d'été",
        "Préfecture du Doubs – BOP 147 – Cités éducatives",
    ]
    export = client.get(appel.get_absolute_url(), {"export": "csv"})
    text = b"".join(export.streaming_content if export.streaming else [export.content])
    header = text.decode("utf-8-sig").splitlines()[0]
    assert "Préfecture du Doubs – BOP 147 – QE voté" in header


def test_the_committee_names_the_funding_line_it_would_push_over(
    client, manager, appel, programmation, lignes, etat
):
    ete = programmation["ete"]
    Action.objects.filter(pk=ete.pk).update(statut=S.INSTRUIT)
    Financement.objects.filter(action=ete).update(montant_vote=None)
    comite = ComiteFactory(appel=appel)
    comite.dossiers.set([ete])
    client.force_login(manager)
    line = ete.financements.get()
    response = client.post(
        comite.get_absolute_url(), {f"sens_{ete.pk}": "programme", f"vote_{line.pk}": "12 000"}
    )
    text = response.content.decode()
    assert (
        "L&#x27;enveloppe de Préfecture du Doubs – BOP 147 – Quartiers d&#x27;été serait dépassée de 2"
        in text
    )


def test_a_funding_line_belongs_to_its_funder(client, manager, action, lignes, pma):
    line = action.financements.get()
    line.ligne = lignes["pma"]
    with pytest.raises(Exception, match="n'est pas une ligne de ce financeur"):
        line.full_clean()
    # The envelope form says it too, and two envelopes on one funding line are refused.
    from cvu.forms_aap import EnveloppeFormSet

    data = {
        "env-TOTAL_FORMS": "2",
        "env-INITIAL_FORMS": "0",
        "env-0-financeur": str(pma.pk),
        "env-0-ligne": str(lignes["qe"].pk),
        "env-0-montant": "1000",
    }
    formset = EnveloppeFormSet(data, prefix="env")
    assert not formset.is_valid()
    assert formset.forms[0].errors["ligne"] == [
        "La ligne « Quartiers d'été » n'est pas une ligne de ce financeur."
    ]
    etat = lignes["qe"].financeur
    data.update(
        {
            "env-0-financeur": str(etat.pk),
            "env-1-financeur": str(etat.pk),
            "env-1-ligne": str(lignes["qe"].pk),
            "env-1-montant": "2000",
        }
    )
    formset = EnveloppeFormSet(data, prefix="env")
    assert not formset.is_valid()
    assert formset.forms[1].errors["ligne"] == [
        "Ce financeur a déjà une enveloppe sur cette ligne pour cet appel."
    ]


def test_the_action_form_offers_the_funding_lines(client, editor, action, lignes):
    client.force_login(editor)
    page = client.get(reverse("cvu:action_update", args=[action.pk]))
    html = page.content.decode()
    assert "Préfecture du Doubs – BOP 147 – Quartiers d&#x27;été" in html
    assert "Ligne de financement" in html
