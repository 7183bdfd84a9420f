import random
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F, Q, Sum

from comptes.models import User
from cvu import opendata
from cvu.demo import demo_siret
from cvu.models import (
    Action,
    ContratDeVille,
    Convention,
    DispositifConnexe,
    Echange,
    FicheIntention,
    Financement,
    NoeudStrategie,
    Organisation,
    PieceOrganisation,
    ProgrammeActions,
    Reunion,
    Reversement,
    SuiteADonner,
    TypeInstance,
    Versement,
)
from cvu.validators import validate_siret_or_siren
from participation.models import (
    Charte,
    ConseilCitoyen,
    Demarche,
    Evaluation,
    Inscription,
    Membre,
    PointEtape,
    PresenceMembre,
    SessionFormation,
)
from participation.services import representativite, worst
from quartiers.models import Observation, Qpv, Secteur, ValeurIndicateur
from tests.cvu.test_opendata import _csv_rows, _validate


@pytest.mark.django_db
def test_seed_demo_needs_the_territory():
    with pytest.raises(CommandError, match="load_territoire"):
        call_command("seed_demo", "--force", stdout=StringIO())


@pytest.mark.django_db
def test_seed_demo_refuses_a_production_like_database():
    call_command("load_territoire", stdout=StringIO())
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.exists()


@pytest.mark.django_db
def test_seed_demo_builds_the_demo_and_is_idempotent():
    call_command("load_territoire", stdout=StringIO())
    call_command("seed_demo", "--force", stdout=StringIO())
    counts = (
        User.objects.count(),
        Secteur.objects.count(),
        ValeurIndicateur.objects.count(),
        Observation.objects.count(),
        Action.objects.count(),
        Financement.objects.count(),
        Reunion.objects.count(),
        Membre.objects.count(),
        Inscription.objects.count(),
    )
    call_command("seed_demo", "--force", "--password", "autre-mot-de-passe", stdout=StringIO())
    assert counts == (
        User.objects.count(),
        Secteur.objects.count(),
        ValeurIndicateur.objects.count(),
        Observation.objects.count(),
        Action.objects.count(),
        Financement.objects.count(),
        Reunion.objects.count(),
        Membre.objects.count(),
        Inscription.objects.count(),
    )
    assert User.objects.count() == 9
    assert User.objects.get(email="service@demo.local").role == User.Role.CHEF_SERVICE
    assert User.objects.get(email="direction@demo.local").role == User.Role.DIRECTION
    admin = User.objects.get(email="admin@demo.local")
    assert admin.is_superuser and admin.check_password("autre-mot-de-passe")
    for number in range(1, 7):
        chef = User.objects.get(email=f"cdp{number}@demo.local")
        assert chef.role == User.Role.CHEF_PROJET
        assert chef.secteurs.get().communes.filter(qpvs__geographie="2024").exists()
    # Every 2024 QPV is in a sector and has demo values over several years.
    for qpv in Qpv.objects.filter(geographie="2024"):
        assert Qpv.objects.editable_by(qpv.communes.first().secteur.chef_projet).filter(pk=qpv.pk)
        years = set(qpv.valeurs.values_list("annee", flat=True))
        assert len(years) >= 5
    assert not ValeurIndicateur.objects.filter(est_demo=False).exists()
    # The contract: two contracts, about 40 partners, 130 actions a year over 2022-2026.
    assert ContratDeVille.objects.count() == 2
    assert 35 <= Organisation.objects.count() <= 45
    assert Action.objects.count() == 5 * 130 + 1  # and the multi-year convention below
    # Of PMA's order (issue #16): 100 to 150 dossiers a year, under 3 M€ requested.
    assert 100 <= Action.objects.filter(annee=2025).count() <= 150
    requested = Financement.objects.filter(annee=2025).aggregate(total=Sum("montant_demande"))
    assert Decimal(1_000_000) < requested["total"] < Decimal(3_000_000)
    assert set(Action.objects.values_list("statut", flat=True)) == set(Action.Statut.values)
    assert not Action.objects.filter(financements__isnull=True).exists()
    assert not Financement.objects.filter(
        Q(montant_demande__lt=0) | Q(montant_vote__lt=0) | Q(montant_verse__lt=0)
    ).exists()
    assert not Financement.objects.filter(montant_verse__gt=F("montant_vote")).exists()
    # Paid amounts come from payments: each line's is the sum of its paid instalments.
    paid = dict(
        Versement.objects.payes()
        .order_by()
        .values("financement")
        .annotate(total=Sum("montant"))
        .values_list("financement", "total")
    )
    assert paid and Versement.objects.prevus().exists()
    assert paid == dict(
        Financement.objects.filter(montant_verse__gt=0).values_list("pk", "montant_verse")
    )
    for organisation in Organisation.objects.exclude(siret=""):
        validate_siret_or_siren(organisation.siret)
    assert Organisation.objects.filter(type="association").exclude(siret="").count() == 25
    assert Organisation.objects.get(siret__startswith="200065647").type == "epci"
    # The porteurs' story (cvu.demo_porteurs): fiches, advice, pieces, a convention, a clawback,
    # and the open-data file of PMA's 2025 grants, which follows the published schema.
    assert FicheIntention.objects.count() == 4 and Echange.objects.exists()
    assert Echange.objects.filter(date_prochaine_etape__isnull=False).exists()
    assert PieceOrganisation.objects.filter(type="cer", date_expiration__lt=date.today()).exists()
    convention = Convention.objects.get()
    assert convention.statut == "signee" and convention.action.statut == "conventionne"
    assert Reversement.objects.count() == 1
    # A CPO 2024-2026: its 2024 bilan received, its 2025 bilan late since 30 June 2026.
    cpo = Action.objects.get(annee_fin__isnull=False)
    assert (cpo.periode, list(cpo.bilans.values_list("exercice", flat=True))) == (
        "2024–2026",
        [2024],
    )
    late = Action.objects.bilan_en_retard(date(2026, 7, 1)).with_exercice_en_retard(
        date(2026, 7, 1)
    )
    assert late.get(pk=cpo.pk).exercice_en_retard == 2025
    # The evaluation frame of two objectives of the 2024 contract, measured in 2024 and 2025.
    from cvu.models import IndicateurResultat

    frame = IndicateurResultat.objects.filter(objectif__contrat__annee_debut=2024)
    assert frame.count() == 3 and frame.values("objectif").distinct().count() == 2
    assert all(i.valeurs.count() == 2 for i in frame)
    export = opendata.build(User.objects.get(email="direction@demo.local"), 2025)
    header, rows = _csv_rows(opendata.to_csv(export))
    assert len(rows) > 20
    _validate(header, [(row, None) for row in rows])
    assert sum(Decimal(row["montant"]) for row in rows) == export.total
    for number in range(1, 7):
        chef = User.objects.get(email=f"cdp{number}@demo.local")
        assert Action.objects.editable_by(chef).exists()
        sector_actions = Action.objects.filter(programme__secteur=chef.secteurs.get())
        assert sector_actions.count() >= 100
        assert not sector_actions.exclude(referent=chef).exists()
    # Each contract has a three-level tree; the actions serve objectives of their own contract.
    for contrat in ContratDeVille.objects.all():
        assert (
            contrat.noeuds.filter(niveau="objectif").count()
            >= 2 * contrat.noeuds.filter(niveau="axe").count()
        )
    assert not NoeudStrategie.objects.filter(niveau="objectif", parent__niveau="axe").exists()
    assert not Action.objects.exclude(objectifs__contrat=F("contrat")).exists()
    # One programme per sector and year, validated except the year being programmed.
    assert ProgrammeActions.objects.count() == 6 * 5
    assert set(
        ProgrammeActions.objects.filter(annee_debut=2026).values_list("statut", flat=True)
    ) == {"brouillon"}
    assert not ProgrammeActions.objects.filter(
        annee_debut__lt=2026, valide_par__isnull=True
    ).exists()
    # Governance: every kind of instance, meetings with minutes, some follow-ups overdue.
    assert TypeInstance.objects.filter(pilotage=True).count() == 2
    assert TypeInstance.objects.filter(nom__startswith="Instance ").count() == 10
    assert Reunion.objects.filter(statut="tenue").exclude(compte_rendu="").exists()
    assert SuiteADonner.objects.overdue().exists()
    assert DispositifConnexe.objects.filter(type="gusp").get().plan_actions.exists()
    # Participation: a council per 2024 QPV with 8-20 members, varied representativeness.
    assert ConseilCitoyen.objects.count() == 9
    for conseil in ConseilCitoyen.objects.all():
        assert 8 <= conseil.membres.count() <= 20
    statuses = {
        worst(representativite(c, list(c.membres.all()))) for c in ConseilCitoyen.objects.all()
    }
    assert len(statuses) > 1
    assert PresenceMembre.objects.exists()
    assert Demarche.objects.count() == 10 and PointEtape.objects.exists()
    assert Charte.objects.count() == 2
    assert SessionFormation.objects.count() == 6 and Evaluation.objects.exists()


def test_demo_siret_is_deterministic_and_valid():
    first = [demo_siret(random.Random(7)) for _ in range(3)]
    assert first == [demo_siret(random.Random(7)) for _ in range(3)]
    for siret in first:
        assert len(siret) == 14
        validate_siret_or_siren(siret)
