"""Conventions for the collectivité's own grants: templates, building, signature.

The collectivité is the EPCI among the contract's signatories (PMA): it conventions only its own
grant; the other funders sign their own conventions with the porteur.
"""

import re
from datetime import date
from decimal import Decimal
from importlib import import_module
from string import Template

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.text import slugify

from core.pdf import render_pdf
from core.templatetags.formats import euros

from . import aap, rights, services
from .models import (
    Action,
    ContratDeVille,
    Convention,
    Document,
    ModeleConvention,
    Organisation,
    TransitionStatut,
)
from .models.aap import validate_placeholders
from .models.actions import ZERO

S = Action.Statut

# The placeholders a convention template may use, and what each one says.
PLACEHOLDERS = {
    "numero": "n° de la convention",
    "collectivite": "nom de la collectivité qui attribue la subvention",
    "signataire": "signataire pour la collectivité",
    "porteur": "nom du porteur",
    "siret_porteur": "SIRET ou SIREN du porteur",
    "adresse_porteur": "adresse du porteur",
    "action": "intitulé de l'action",
    "objet": "description de l'action (à défaut, son intitulé)",
    "numero_dauphin": "n° de dossier Dauphin",
    "annee_debut": "première année",
    "annee_fin": "dernière année",
    "duree": "durée en années",
    "montant": "montant total de la subvention de la collectivité",
    "montant_par_annee": "une ligne par année avec son montant",
    "reference_decision": "référence de la décision d'attribution",
    "date_decision": "date de la décision d'attribution",
}

# A convention is established for a notified dossier, or one further in the cycle.
OPEN_STATUSES = [
    S.NOTIFIE,
    S.CONVENTIONNE,
    S.EN_COURS,
    S.BILAN_ATTENDU,
    S.BILAN_RECU,
    S.SOLDE,
]
DEFAULT_SIGNATAIRE = "Le Président"


def validate_template(text: str) -> None:
    """Only the convention's $placeholders may appear in a template."""
    validate_placeholders(text, PLACEHOLDERS)


def ensure_default_modeles() -> None:
    """The two default templates, written by migration 0008, when no template exists (a base
    emptied by `flush`, as the demo may meet): the migration's own function, not a copy."""
    from django.apps import apps

    import_module("cvu.migrations.0008_modeles_convention").fill_modeles(apps, None)


def collectivite(contrat: ContratDeVille) -> Organisation | None:
    """The grant-giving collectivité: the contract's signatory of type EPCI (PMA)."""
    return contrat.signataires.filter(type=Organisation.Type.EPCI).order_by("nom", "pk").first()


def voted_by_year(action: Action, giver: Organisation | None) -> dict[int, Decimal]:
    """The collectivité's voted amount on this dossier, per year (from its financing lines;
    reads action.financements.all(), so a prefetch serves it)."""
    if giver is None:
        return {}
    amounts: dict[int, Decimal] = {}
    for line in action.financements.all():
        if line.financeur_id == giver.pk and line.montant_vote:
            amounts[line.annee] = amounts.get(line.annee, ZERO) + line.montant_vote
    return dict(sorted(amounts.items()))


def required_years(action: Action, giver: Organisation | None, years) -> list[tuple[int, Decimal]]:
    """The years in which the collectivité gives the porteur more than 23 000 €, counting all
    its dossiers (cvu.aap's threshold rule, narrowed to the collectivité)."""
    if giver is None or not years:
        return []
    rows = aap._above_threshold([action.porteur_id], list(years)).filter(financeur=giver)
    return [(row["annee"], row["total"]) for row in rows]


def establishment_refusal(action: Action, giver: Organisation | None) -> str:
    """Why no convention can be established for this dossier now ('' when it can)."""
    if action.statut not in OPEN_STATUSES:
        return (
            f"Le dossier est « {action.get_statut_display()} » : la convention s'établit une fois "
            "le dossier notifié."
        )
    if giver is None:
        return (
            "Aucune collectivité (organisation de type EPCI) parmi les signataires du contrat : "
            "ajoutez-la aux signataires du contrat."
        )
    if not voted_by_year(action, giver):
        return (
            f"{giver} n'a pas voté de subvention pour ce dossier : chaque financeur établit "
            "ses propres conventions."
        )
    return ""


def default_modele(action: Action) -> ModeleConvention | None:
    """A proposed template of the dossier's kind: multi-year (CPO) for a multi-year action."""
    kind = (
        ModeleConvention.Type.PLURIANNUELLE if action.annee_fin else ModeleConvention.Type.ANNUELLE
    )
    proposed = ModeleConvention.objects.filter(actif=True)
    return proposed.filter(type=kind).first() or proposed.first()


# ---------------------------------------------------------------- the text


def _signataire(action: Action) -> str:
    return (action.appel.signataire if action.appel_id else "") or DEFAULT_SIGNATAIRE


def _adresse(organisation: Organisation) -> str:
    town = f"{organisation.code_postal} {organisation.ville}".strip()
    return ", ".join(part for part in (organisation.adresse, town) if part) or "—"


def values(
    action: Action,
    *,
    giver: Organisation,
    amounts: dict[int, Decimal],
    numero: str,
    reference_decision: str,
    date_decision: date | None,
) -> dict[str, str]:
    """What each placeholder says for this dossier."""
    debut, fin = action.annee, action.annee_fin or action.annee
    porteur = action.porteur
    return {
        "numero": numero or "—",
        "collectivite": giver.nom,
        "signataire": _signataire(action),
        "porteur": porteur.nom,
        "siret_porteur": porteur.siret or "—",
        "adresse_porteur": _adresse(porteur),
        "action": action.titre,
        "objet": action.description.strip() or action.titre,
        "numero_dauphin": action.numero_dauphin or "—",
        "annee_debut": str(debut),
        "annee_fin": str(fin),
        "duree": str(fin - debut + 1),
        "montant": euros(sum(amounts.values(), ZERO)),
        "montant_par_annee": "\n".join(
            f"- {year} : {euros(amount)}" for year, amount in amounts.items()
        ),
        "reference_decision": reference_decision or "—",
        "date_decision": date_filter(date_decision, "j F Y") if date_decision else "—",
    }


def fill(modele: ModeleConvention, placeholders: dict[str, str]) -> str:
    """The template's text with its $placeholders filled in (the notification letter's safe
    mechanism: an unknown name stays as written)."""
    return Template(modele.texte).safe_substitute(placeholders)


ARTICLE = re.compile(r"^(article|titre|préambule|preambule)\b", re.IGNORECASE)


def blocks(text: str) -> list[dict]:
    """The text as the PDF lays it out: paragraphs split on blank lines, and the first line of a
    paragraph starting with "Article" (or "Titre", "Préambule") as its heading."""
    result = []
    for paragraph in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        first, _, rest = paragraph.partition("\n")
        if ARTICLE.match(first) and len(first) <= 150:
            result.append({"titre": first.strip(), "texte": rest.strip()})
        else:
            result.append({"titre": "", "texte": paragraph})
    return result


# ---------------------------------------------------------------- the PDF


def _version(convention: Convention) -> int:
    """The rank of the next PDF: one more than the PDFs this convention has had."""
    previous = (
        convention.history.exclude(document__isnull=True).values("document_id").distinct().count()
        if convention.pk
        else 0
    )
    return previous + 1


def _build_pdf(convention: Convention, *, giver: Organisation, amounts, user) -> Document:
    """Renders the convention to PDF and keeps it among the dossier's documents."""
    action = convention.action
    today = timezone.localdate()
    pdf = render_pdf(
        "cvu/pdf/convention.html",
        {
            "convention": convention,
            "action": action,
            "collectivite": giver,
            "signataire": _signataire(action),
            "blocs": blocks(convention.texte),
            "montants": list(amounts.items()),
            "auteur": user.get_full_name() or user.email,
        },
    )
    ident = slugify(convention.numero) or f"dossier-{action.pk}"
    name = f"convention-{ident}-v{_version(convention)}-{today:%Y-%m-%d}.pdf"
    upload = ContentFile(pdf, name=name)
    return services.document_add(
        action=action, upload=upload, user=user, content_type="application/pdf"
    )


# ---------------------------------------------------------------- workflows


@transaction.atomic
def convention_establish(
    *,
    action: Action,
    modele: ModeleConvention,
    numero: str,
    reference_decision: str,
    date_decision: date | None,
    user,
) -> Convention:
    """Fills the template for the dossier, renders the PDF and keeps it as a document."""
    rights.require_manager(user)
    # of=("self",): lock the dossier only (PostgreSQL refuses FOR UPDATE on an outer join).
    action = (
        Action.objects.select_for_update(of=("self",))
        .select_related("porteur", "appel")
        .get(pk=action.pk)
    )
    giver = collectivite(action.contrat)
    refusal = establishment_refusal(action, giver)
    if refusal:
        raise ValidationError(refusal)
    if Convention.objects.filter(action=action).exists():
        raise ValidationError("Ce dossier a déjà sa convention : modifiez-la.")
    validate_template(modele.texte)
    amounts = voted_by_year(action, giver)
    convention = Convention(
        action=action,
        modele=modele,
        numero=numero.strip(),
        annee_debut=action.annee,
        annee_fin=action.annee_fin or action.annee,
        montant=sum(amounts.values(), ZERO),
        reference_decision=reference_decision.strip(),
        date_decision=date_decision,
        auteur=user,
    )
    convention.texte = fill(
        modele,
        values(
            action,
            giver=giver,
            amounts=amounts,
            numero=convention.numero,
            reference_decision=convention.reference_decision,
            date_decision=date_decision,
        ),
    )
    convention.full_clean()
    convention.save()
    convention.document = _build_pdf(convention, giver=giver, amounts=amounts, user=user)
    convention.save(update_fields=["document"])
    return convention


@transaction.atomic
def convention_rebuild(
    *,
    convention: Convention,
    texte: str,
    numero: str,
    reference_decision: str,
    date_decision: date | None,
    modele: ModeleConvention | None = None,
    user,
) -> Convention:
    """Saves the re-edited convention and renders a new PDF; the previous one stays among the
    dossier's documents. With `modele`, the text is filled again from that template (the amount
    and years then follow the dossier's current vote)."""
    rights.require_manager(user)
    convention = (
        Convention.objects.select_for_update(of=("self",))
        .select_related("action__porteur", "action__appel", "action__contrat")
        .get(pk=convention.pk)
    )
    if convention.statut == Convention.Statut.SIGNEE:
        raise ValidationError("La convention est signée : son texte ne se modifie plus.")
    action = convention.action
    giver = collectivite(action.contrat)
    refusal = establishment_refusal(action, giver)
    if refusal:
        raise ValidationError(refusal)
    amounts = voted_by_year(action, giver)
    convention.numero = numero.strip()
    convention.reference_decision = reference_decision.strip()
    convention.date_decision = date_decision
    convention.annee_debut = action.annee
    convention.annee_fin = action.annee_fin or action.annee
    convention.montant = sum(amounts.values(), ZERO)
    if modele is not None:
        validate_template(modele.texte)
        convention.modele = modele
        texte = fill(
            modele,
            values(
                action,
                giver=giver,
                amounts=amounts,
                numero=convention.numero,
                reference_decision=convention.reference_decision,
                date_decision=date_decision,
            ),
        )
    convention.texte = texte
    convention.full_clean()
    convention.save()
    convention.document = _build_pdf(convention, giver=giver, amounts=amounts, user=user)
    convention.save(update_fields=["document"])
    return convention


@transaction.atomic
def convention_sign(
    *,
    convention: Convention,
    date_signature_porteur: date | None,
    date_signature_collectivite: date | None,
    upload=None,
    content_type: str = "",
    user,
) -> TransitionStatut | None:
    """Records the signature dates and the signed copy; once both parties have signed, a
    notified dossier moves to « Conventionné » (cvu.aap.change_status, which records it)."""
    rights.require_manager(user)
    convention = (
        Convention.objects.select_for_update(of=("self",))
        .select_related("action")
        .get(pk=convention.pk)
    )
    action = convention.action
    if action.statut not in OPEN_STATUSES:
        raise ValidationError(
            f"Le dossier est « {action.get_statut_display()} » : une convention se signe pour un "
            "dossier notifié."
        )
    if convention.document_id is None:
        raise ValidationError("Établissez d'abord le PDF de la convention, puis faites-la signer.")
    today = timezone.localdate()
    for day in (date_signature_porteur, date_signature_collectivite):
        if day and day > today:
            raise ValidationError("Une date de signature ne peut pas être dans le futur.")
    both = bool(date_signature_porteur and date_signature_collectivite)
    if both and upload is None and convention.document_signe_id is None:
        raise ValidationError("Joignez l'exemplaire signé par les deux parties.")
    if upload is not None:
        convention.document_signe = services.document_add(
            action=action, upload=upload, user=user, content_type=content_type
        )
    convention.date_signature_porteur = date_signature_porteur
    convention.date_signature_collectivite = date_signature_collectivite
    convention.full_clean()
    convention.save()
    if both and action.statut == S.NOTIFIE:
        return aap.change_status(action, S.CONVENTIONNE, user=user)
    return None


# ---------------------------------------------------------------- the dossier page


def action_section(user, action) -> dict:
    """What the dossier page shows of this part (context for its include)."""
    giver = collectivite(action.contrat)
    amounts = voted_by_year(action, giver)
    convention = (
        Convention.objects.filter(action=action)
        .select_related("modele", "document", "document_signe")
        .first()
    )
    return {
        "convention_section": {
            "collectivite": giver,
            "montants": list(amounts.items()),
            "total": sum(amounts.values(), ZERO),
            "obligatoire": required_years(action, giver, amounts.keys()),
            "convention": convention,
            "montant_change": bool(
                convention and convention.montant != sum(amounts.values(), ZERO)
            ),
            "can_manage": rights.is_manager(user),
            "refus": establishment_refusal(action, giver),
        }
    }


def holds(document) -> bool:
    """Is this document a convention's current PDF or its signed copy? It stays with the dossier."""
    return Convention.objects.filter(Q(document=document) | Q(document_signe=document)).exists()
