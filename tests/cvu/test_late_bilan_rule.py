"""Issue #16, end of rule 1: "this dossier's bilan is late" is one queryset method,
Action.objects.bilan_en_retard(), and every screen that shows late bilans agrees with it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cvu import aap
from cvu.digest import digest_for
from cvu.filters import ActionFilterSet
from cvu.models import Action
from reporting.dashboard import Scope, late_bilans
from tests.cvu.aap_factories import ComiteFactory
from tests.cvu.factories import ActionFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

S = Action.Statut


@pytest.fixture
def dossiers(appel, editor, qpv):
    """Dossiers of the editor's call, one per case of the rule, each with its own porteur."""
    today = timezone.localdate()
    cases = {
        "notifie_hier": (S.NOTIFIE, today - timedelta(days=1)),  # late
        "en_cours_il_y_a_40_jours": (S.EN_COURS, today - timedelta(days=40)),  # late
        "attendu_aujourd_hui": (S.BILAN_ATTENDU, today),  # due today: not late yet
        "conventionne_sans_date": (S.CONVENTIONNE, None),  # no deadline: never late
        "recu_apres_la_date": (S.BILAN_RECU, today - timedelta(days=10)),  # received
        "en_cours_dans_10_jours": (S.EN_COURS, today + timedelta(days=10)),  # due soon
        "programme_date_passee": (S.PROGRAMME, today - timedelta(days=3)),  # not notified
    }
    return {
        name: ActionFactory(
            contrat=appel.contrat,
            appel=appel,
            titre=name,
            statut=statut,
            date_limite_bilan=deadline,
            referent=editor,
            qpvs=[qpv],
            porteur=OrganisationFactory(nom=f"Porteur {name}"),
        )
        for name, (statut, deadline) in cases.items()
    }


LATE = {"notifie_hier", "en_cours_il_y_a_40_jours"}


def titles(actions) -> set[str]:
    return {action.titre for action in actions}


def test_the_rule(dossiers):
    assert titles(Action.objects.bilan_en_retard()) == LATE
    # On a given day: tomorrow, the bilan due today is late too.
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert titles(Action.objects.bilan_en_retard(tomorrow)) == LATE | {"attendu_aujourd_hui"}
    assert titles(Action.objects.bilan_dans_les_delais()) == {
        "attendu_aujourd_hui",
        "conventionne_sans_date",
        "en_cours_dans_10_jours",
    }


def test_every_screen_agrees_on_the_late_dossiers(client, editor, manager, appel, dossiers):
    # The home page (the referent's dossiers block).
    client.force_login(editor)
    home = client.get("/")
    assert titles(home.context["dossiers"]["bilans_en_retard"]) == LATE
    # The weekly digest.
    assert titles(digest_for(editor)["bilans_en_retard"]) == LATE
    # The referent's dossiers page.
    groups = {
        title: actions
        for title, actions, _ in client.get("/appels-a-projets/mes-dossiers/").context["groups"]
    }
    assert titles(groups["Bilans en retard"]) == LATE
    assert "notifie_hier" not in titles(groups["Bilans attendus"])
    # The action list's filter, as the dashboard's link uses it.
    late_filter = ActionFilterSet(
        {"contrat": appel.contrat_id, "bilan": "en_retard"}, queryset=Action.objects.all()
    )
    assert titles(late_filter.qs) == LATE
    page = client.get(f"/actions/?contrat={appel.contrat_id}&bilan=en_retard")
    assert titles(page.context["page_obj"]) == LATE
    on_time = ActionFilterSet({"bilan": "attendu"}, queryset=Action.objects.all())
    assert titles(on_time.qs) == {"attendu_aujourd_hui", "en_cours_dans_10_jours"}
    # The dashboard's section, per referent.
    section = late_bilans(Scope(contrat=appel.contrat, annee=appel.annee))
    assert [(row.label, row.values["nombre"]) for row in section.rows] == [
        (f"{editor.first_name} {editor.last_name}", len(LATE))
    ]
    # The dossier's own page flags it.
    for name, action in dossiers.items():
        page = client.get(action.get_absolute_url())
        assert page.context["cycle"]["bilan_en_retard"] is (name in LATE), name
    # The committee's porteur check: the porteurs holding a late bilan.
    late_porteurs = {
        action.porteur.nom
        for action in dossiers.values()
        if aap.late_bilans(action.porteur).exists()
    }
    assert late_porteurs == {f"Porteur {name}" for name in LATE}
    # The programming report's "bilans manquants" flags.
    from reporting.rapports import programmation_context

    annee = next(iter(dossiers.values())).annee
    context = programmation_context({"contrat": appel.contrat.pk, "annee": annee})
    flagged = {a.titre for a in context["actions"] if a.bilan_en_retard}
    assert flagged == LATE


def test_the_committee_asks_a_derogation_for_the_porteurs_with_a_late_bilan(
    client, manager, appel, dossiers
):
    # A new dossier of each porteur comes before the committee.
    new = {
        name: ActionFactory(
            contrat=appel.contrat,
            appel=appel,
            titre=f"Nouveau dossier de {name}",
            statut=S.INSTRUIT,
            porteur=action.porteur,
        )
        for name, action in dossiers.items()
    }
    comite = ComiteFactory(appel=appel)
    comite.dossiers.set(new.values())
    client.force_login(manager)
    page = client.get(comite.get_absolute_url() + "?filtre=tous").content.decode()
    asked = {name for name, action in new.items() if f'name="derogation_{action.pk}"' in page}
    assert asked == LATE
    # Programming without derogation is refused for exactly the same porteurs.
    for name, action in new.items():
        late = list(aap.late_bilans(action.porteur, exclude=action))
        assert bool(late) is (name in LATE), name


def test_the_dossier_page_warns_of_the_porteur_s_late_bilans_until_the_decision(
    client, manager, appel, dossiers
):
    porteur = dossiers["notifie_hier"].porteur  # its bilan is late
    waiting = ActionFactory(contrat=appel.contrat, appel=appel, porteur=porteur, statut=S.INSTRUIT)
    decided = ActionFactory(
        contrat=appel.contrat, appel=appel, porteur=porteur, statut=S.CONVENTIONNE
    )
    client.force_login(manager)
    assert "Bilan en retard chez ce porteur" in client.get(waiting.get_absolute_url()).text
    assert "Bilan en retard chez ce porteur" not in client.get(decided.get_absolute_url()).text
