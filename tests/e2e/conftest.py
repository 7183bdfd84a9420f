"""Shared pieces of the browser tests: the data every page needs and a logged-in browser."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.comptes.factories import UserFactory
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


@pytest.fixture
def world(editor, manager, reader, secteur, commune, qpv):
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
    ligne = FinancementFactory(
        action=dossier_notifie, financeur=financeur, montant_vote=Decimal(4000)
    )
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
    dispositif_tfpb = DispositifConnexe.objects.create(nom="TFPB", type="tfpb", mode="coherence")
    dispositif_relais = DispositifConnexe.objects.create(
        nom="Adultes-relais", type="adultes_relais", mode="information"
    )

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

    # A porteur met before the call (fiche d'intention) and the advice given (échange).
    from cvu.models import Echange, FicheIntention

    intention = FicheIntention.objects.create(
        contrat=contrat, appel=appel, porteur=porteur, titre="Jardin partagé", auteur=editor
    )
    intention.qpvs.set([qpv])
    echange = Echange.objects.create(
        organisation=porteur,
        intention=intention,
        date=date(2026, 1, 10),
        agent=editor,
        conseil="Chiffrer les ateliers.",
        prochaine_etape="Relire le budget",
        date_prochaine_etape=timezone.localdate(),
    )

    # The porteur's administrative file: a CER past its validity, flagged on its dossiers.
    from cvu.models import PieceOrganisation

    piece = PieceOrganisation(
        organisation=porteur,
        type="cer",
        nom="cer.pdf",
        content_type="application/pdf",
        taille=4,
        date_piece=date(2025, 1, 10),
        date_expiration=date(2025, 12, 31),
    )
    piece.fichier.save("cer.pdf", ContentFile(b"%PDF"), save=False)
    piece.save()

    # The notified dossier's payments: an advance paid, a balance planned, a clawback asked.
    from cvu.models import Reversement, Versement
    from cvu.payments import refresh_paid

    Versement.objects.create(
        financement=ligne,
        nature="avance",
        montant=Decimal(2000),
        date_versement=date(2026, 2, 1),
        numero_mandat="M-2026-001",
    )
    versement = Versement.objects.create(
        financement=ligne, nature="solde", condition="bilan", montant=Decimal(1500)
    )
    refresh_paid(ligne)
    reversement = Reversement.objects.create(
        financement=ligne, montant=Decimal(100), motif="Trop perçu", date_demande=date(2026, 3, 1)
    )

    # The collectivité (EPCI signatory) funds a notified dossier above 23 000 €: its convention,
    # under a template; a second notified dossier waits for its convention.
    from cvu.models import Convention, ModeleConvention

    pma = OrganisationFactory(nom="Pays de Montbéliard Agglomération", sigle="PMA", type="epci")
    contrat.signataires.add(pma)
    # Another porteur: above 23 000 € a year, each of its dossiers needs the convention first.
    centre = OrganisationFactory(nom="Centre social Petite-Hollande", type="association")
    dossier_convention = ActionFactory(
        contrat=contrat,
        porteur=centre,
        qpvs=[qpv],
        referent=editor,
        appel=appel,
        statut=Action.Statut.NOTIFIE,
    )
    FinancementFactory(
        action=dossier_convention,
        financeur=pma,
        montant_demande=Decimal(24000),
        montant_vote=Decimal(24000),
    )
    modele = ModeleConvention.objects.create(
        nom="Convention annuelle",
        texte="Convention entre $collectivite et $porteur pour l'action « $action » : $montant.",
    )
    convention = Convention.objects.create(
        action=dossier_convention,
        modele=modele,
        annee_debut=dossier_convention.annee,
        annee_fin=dossier_convention.annee,
        montant=Decimal(24000),
        texte="Convention entre PMA et l'Association Les Buis.",
        reference_decision="Délibération C 2026-112",
        date_decision=date(2026, 3, 26),
        auteur=manager,
    )
    a_conventionner = ActionFactory(
        contrat=contrat,
        porteur=centre,
        qpvs=[qpv],
        referent=editor,
        appel=appel,
        statut=Action.Statut.NOTIFIE,
    )
    FinancementFactory(
        action=a_conventionner,
        financeur=pma,
        montant_demande=Decimal(30000),
        montant_vote=Decimal(30000),
    )

    # The evaluation frame: an objective of the contract with one result indicator and a value.
    from cvu.models import IndicateurResultat, NoeudStrategie, ValeurResultat

    axe = NoeudStrategie.objects.create(contrat=contrat, niveau="axe", code="1", libelle="Emploi")
    objectif = NoeudStrategie.objects.create(
        contrat=contrat, parent=axe, niveau="objectif", code="1.1", libelle="Accès à l'emploi"
    )
    action.objectifs.add(objectif)
    indicateur_resultat = IndicateurResultat.objects.create(
        objectif=objectif,
        libelle="Taux d'emploi des 16-25 ans",
        unite="%",
        annee_reference=2023,
        valeur_reference=Decimal("38.0"),
        cible=Decimal("45.0"),
        source="INSEE",
    )
    ValeurResultat.objects.create(indicateur=indicateur_resultat, annee=2025, valeur=Decimal(40))

    from cvu.models import PointOrdreDuJour, PropositionReorientation

    # One on the held meeting's agenda, to decide; one still being written.
    proposition = PropositionReorientation.objects.create(
        contrat=contrat,
        objet="Ouvrir l'accès à l'emploi aux moins de 18 ans",
        motifs="Constats des missions locales.",
        objectif=objectif,
        auteur=editor,
        point=PointOrdreDuJour.objects.create(reunion=reunion, ordre=9, texte="Proposition"),
    )
    proposition.indicateurs.set([indicateur_resultat])
    proposition.actions.set([action])
    proposition_libre = PropositionReorientation.objects.create(
        contrat=contrat, objet="Mobilités", motifs="Horaires décalés.", auteur=editor
    )
    from cvu.models import EngagementSignataire, PrioriteQuartier, ProjetQuartier

    projet = ProjetQuartier.objects.create(contrat=contrat, qpv=qpv, enjeux="Quartier jeune.")
    PrioriteQuartier.objects.create(projet=projet, libelle="Emploi des jeunes", objectif=objectif)

    contrat.signataires.add(porteur)
    engagement = EngagementSignataire.objects.create(
        contrat=contrat,
        signataire=porteur,
        texte="Accueillir des stagiaires des quartiers.",
        indicateur=indicateur_resultat,
        date_revue=timezone.localdate(),
    )

    from datetime import date as _date

    from reporting import annuel
    from reporting.models import Consultation

    rapport_annuel = annuel.demarrer(
        contrat=contrat, annee=2025, communes_dsu=[commune], user=manager
    )
    consultation = Consultation.objects.create(
        rapport=rapport_annuel,
        conseil_citoyen=conseil,
        envoye_le=_date(2026, 1, 12),
        echeance=_date(2026, 2, 12),
    )
    return {
        "objectif": objectif.pk,
        "indicateur_resultat": indicateur_resultat.pk,
        "modele": modele.pk,
        "convention": convention.pk,
        "a_conventionner": a_conventionner.pk,
        "ligne": ligne.pk,
        "versement": versement.pk,
        "reversement": reversement.pk,
        "piece": piece.pk,
        "intention": intention.pk,
        "echange": echange.pk,
        "cdp": editor,
        "service": manager,
        "direction": reader,
        "admin": UserFactory(email="admin@pma.test", administrateur=True),
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
        "dispositif_tfpb": dispositif_tfpb.pk,
        "dispositif_relais": dispositif_relais.pk,
        "reunion": reunion.pk,
        "suite": suite.pk,
        "proposition": proposition.pk,
        "proposition_libre": proposition_libre.pk,
        "engagement": engagement.pk,
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
        "rapport_annuel": rapport_annuel.pk,
        "chapitre": rapport_annuel.chapitres.get(type="commune", commune=commune).pk,
        "consultation": consultation.pk,
    }


def log_in_as(page, live_server, user) -> None:
    """The session of a logged-in user, handed to the browser (the login form has its own test)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
