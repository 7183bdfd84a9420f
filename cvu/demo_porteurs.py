"""Demo data of the porteurs' story (issue #18): fiches d'intention for the open call, the advice
log with next steps, administrative pieces (one CER expired, one missing), a signed convention
with its payments, and a clawback. Built through the services, after the calls (cvu.demo)."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.utils import timezone

from core.pdf import html_to_pdf
from quartiers.models import Qpv

from . import conventions, intentions, payments, pieces
from .models import (
    Action,
    AppelAProjets,
    BilanFinancement,
    Echange,
    FicheIntention,
    Financement,
    Organisation,
    PieceOrganisation,
)
from .models.aap import Bilan
from .validators import luhn_ok

S = Action.Statut
T = PieceOrganisation.Type


def _siret_of(siren: str) -> str:
    """A SIRET of the SIREN with a valid key: the demo's establishment number is fictitious
    (enter the real one of the siège on the organisation's page)."""
    for nic in range(10, 100000):
        candidate = f"{siren}{nic:05d}"
        if luhn_ok(candidate):
            return candidate
    raise ValueError(siren)


def _pdf(title: str) -> bytes:
    return html_to_pdf(
        f'<html lang="fr"><head><title>{title}</title></head><body><h1>{title}</h1>'
        "<p>Pièce de démonstration de Pilotage CVU : sans valeur.</p></body></html>"
    )


def demo_porteurs(*, users: dict) -> None:
    if FicheIntention.objects.exists():
        return
    pma = Organisation.objects.filter(type=Organisation.Type.EPCI, sigle="PMA").first()
    if pma is None:
        return
    if len(pma.siret) == 9:
        pma.siret = _siret_of(pma.siret)
        pma.save(update_fields=["siret"])
    service = users["service"]
    associations = list(
        Organisation.objects.filter(type=Organisation.Type.ASSOCIATION).order_by("nom")[:8]
    )
    _pieces(associations, service)
    _intentions(associations, users)
    _convention_and_payments(pma, service)
    _cpo(pma, associations, users)


def _pieces(associations, user) -> None:
    """Full files, but for one association whose CER expired and one without CER nor comptes."""
    blank = _pdf("Pièce administrative")
    year = timezone.localdate().year
    for index, association in enumerate(associations):
        association.budget_annuel = Decimal(120000 + 35000 * index)
        association.budget_annee = year - 1
        association.save(update_fields=["budget_annuel", "budget_annee"])
        for type_ in (T.STATUTS, T.RIB, T.COMPTES, T.DIRIGEANTS, T.CER):
            if index == 2 and type_ in (T.CER, T.COMPTES):
                continue  # missing: shown on its dossiers and at the committee
            # Statuts and RIB of long ago; accounts closed last year; the list of directors and
            # the CER of this year's request: all valid today (cvu.pieces.default_expiry).
            dated = {
                T.STATUTS: date(year - 4, 6, 1),
                T.RIB: date(year - 2, 9, 1),
                T.COMPTES: date(year - 1, 12, 31),
            }.get(type_, min(date(year, 1, 2), timezone.localdate()))
            expiry = None
            if index == 1 and type_ == T.CER:
                dated, expiry = date(year - 2, 2, 1), date(year - 2, 12, 31)  # expired
            pieces.piece_add(
                organisation=association,
                upload=SimpleUploadedFile(f"{type_}.pdf", blank, "application/pdf"),
                user=user,
                content_type="application/pdf",
                type=type_,
                date_piece=dated,
                date_expiration=expiry,
            )


def _intentions(associations, users) -> None:
    contrat = intentions.current_contrat()
    appel = intentions.next_appel(contrat) if contrat else None
    if contrat is None or len(associations) < 4:
        return
    today = timezone.localdate()
    priorites = list(contrat.noeuds.filter(niveau="orientation")[:4])
    cases = [
        (
            "cdp1",
            associations[3],
            "Atelier numérique pour les seniors des Buis",
            FicheIntention.Orientation.ENCOURAGEE,
            "Déposer sur Dauphin avant la clôture ; demander aussi la conférence des financeurs.",
            ("Relancer pour le budget prévisionnel", today + timedelta(days=2)),
        ),
        (
            "cdp2",
            associations[4],
            "Permanence d'écrivain public à la Petite-Hollande",
            FicheIntention.Orientation.DROIT_COMMUN,
            "Relève du droit commun (France Services) : mise en relation faite.",
            ("Appeler la coordinatrice France Services", today - timedelta(days=3)),
        ),
        (
            "cdp1",
            associations[5],
            "Festival de quartier aux Champs-Montants",
            FicheIntention.Orientation.A_RETRAVAILLER,
            "Public et objectifs à préciser ; budget à équilibrer avant le dépôt.",
            None,
        ),
        (
            "cdp3",
            associations[6],
            "Chantier éducatif d'été",
            FicheIntention.Orientation.A_TRIER,
            "Premier contact : envoyer le guide du porteur.",
            ("Envoyer le guide du porteur", today + timedelta(days=10)),
        ),
    ]
    for index, (agent, porteur, titre, orientation, conseil, step) in enumerate(cases):
        user = users[agent]
        intention = intentions.intention_save(
            user=users["service"],
            intention=FicheIntention(
                contrat=contrat,
                appel=appel,
                porteur=porteur,
                titre=titre,
                description="Idée présentée lors d'un rendez-vous (démonstration).",
                priorite=priorites[index % len(priorites)] if priorites else None,
                cout_estime=Decimal(8000 + 4000 * index),
                date_rencontre=today - timedelta(days=20 - index),
                conseil=conseil,
                orientation=orientation,
            ),
            qpvs=[],
            financeurs=[],
        )
        FicheIntention.objects.filter(pk=intention.pk).update(auteur=user)
        intentions.echange_save(
            user=user,
            echange=Echange(
                organisation=porteur,
                intention=intention,
                date=today - timedelta(days=20 - index),
                mode=Echange.Mode.RENCONTRE,
                interlocuteurs="Présidente et coordinateur de l'association",
                conseil=conseil,
                prochaine_etape=step[0] if step else "",
                date_prochaine_etape=step[1] if step else None,
            ),
        )


def _convention_and_payments(pma, service) -> None:
    """The largest grant of PMA on a 2025 dossier "conventionné" gets its convention, signed, and
    its remaining payments planned; a dossier whose bilan spent less than paid: a clawback."""
    appel = AppelAProjets.objects.filter(annee=2025).first()
    if appel is None:
        return
    best = (
        Financement.objects.filter(
            financeur=pma, action__appel=appel, action__statut=S.CONVENTIONNE, montant_vote__gt=0
        )
        .values("action")
        .annotate(total=Sum("montant_vote"))
        .order_by("-total")
        .first()
    )
    if best is not None:
        conventions.ensure_default_modeles()
        action = Action.objects.get(pk=best["action"])
        modele = conventions.default_modele(action)
        if modele is not None and conventions.collectivite(action.contrat) == pma:
            convention = conventions.convention_establish(
                action=action,
                modele=modele,
                numero="2025-CV-001",
                reference_decision="Délibération C 2025-087",
                date_decision=date(2025, 3, 27),
                user=service,
            )
            signed = _pdf("Convention signée")
            conventions.convention_sign(
                convention=convention,
                date_signature_porteur=date(2025, 4, 14),
                date_signature_collectivite=date(2025, 4, 18),
                upload=SimpleUploadedFile("convention-signee.pdf", signed, "application/pdf"),
                content_type="application/pdf",
                user=service,
            )
            for line in action.financements.filter(financeur=pma, montant_vote__gt=0):
                if payments.unscheduled(line) > 0:
                    payments.schedule(line, user=service)
    # A bilan that spent less than was paid on one line: the service asks for the difference.
    line = (
        Financement.objects.filter(
            action__statut__in=[S.BILAN_RECU, S.SOLDE],
            montant_verse__gt=Decimal("3000"),
            realise__isnull=True,
        )
        .select_related("action")
        .order_by("-action__annee", "pk")
        .first()
    )
    bilan = Bilan.objects.filter(action_id=line.action_id).first() if line else None
    if line is None or bilan is None:
        return
    BilanFinancement.objects.create(
        bilan=bilan, financement=line, montant_realise=line.montant_verse - Decimal("1500.00")
    )
    payments.request_reversement(
        line,
        montant=payments.reversement_proposed(line),
        motif="Bilan : 1 500 € non utilisés sur la subvention versée (démonstration).",
        date_demande=bilan.recu_le + timedelta(days=20),
        user=service,
    )


def _cpo(pma, associations, users) -> None:
    """A multi-year convention (CPO 2024–2026) of the 2024 call: its 2024 bilan received, its 2025
    bilan late since 30 June 2026, 2026 its last year (the renewal prompt)."""
    appel = AppelAProjets.objects.filter(annee=2024).select_related("contrat").first()
    cdp = users["cdp1"]
    qpv = (
        Qpv.objects.editable_by(cdp)
        .filter(geographie=appel.contrat.geographie)
        .order_by("nom")
        .first()
        if appel
        else None
    )
    if appel is None or qpv is None or len(associations) < 2:
        return
    action = Action.objects.create(
        contrat=appel.contrat,
        appel=appel,
        titre="Ateliers sociolinguistiques et accès aux droits (CPO 2024–2026)",
        porteur=associations[1],
        annee=2024,
        annee_fin=2026,
        statut=S.EN_COURS,
        referent=cdp,
        theme="Accès aux droits",
        public_vise="Adultes allophones des quartiers prioritaires",
        description="Ateliers hebdomadaires de français à visée sociale et professionnelle, "
        "permanences d'accès aux droits (démonstration).",
        cout_total=Decimal("126000.00"),
        date_limite_bilan=date(2027, 6, 30),
    )
    action.qpvs.set([qpv])
    action.objectifs.set(appel.contrat.noeuds.filter(niveau="objectif").order_by("code")[:1])
    etat = Organisation.objects.filter(type=Organisation.Type.ETAT).order_by("nom").first()
    for year in action.exercices:
        for financeur, montant in ((pma, "18000.00"), (etat, "15000.00")):
            if financeur is not None:
                Financement.objects.create(
                    action=action,
                    financeur=financeur,
                    annee=year,
                    montant_demande=Decimal(montant),
                    montant_vote=Decimal(montant),
                )
    Bilan.objects.create(
        action=action,
        exercice=2024,
        recu_le=date(2025, 6, 12),
        rapport="Trois groupes d'ateliers ouverts ; assiduité en hausse au second semestre "
        "(démonstration).",
        cout_realise=Decimal("41500.00"),
        saisi_par=cdp,
    )
