"""Representativeness, presence in steering instances, and the members' personal data (RGPD)."""

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from cvu.models import Reunion
from quartiers.models import ValeurIndicateur

from . import previews
from .models import AccesDonnees, ConseilCitoyen, Membre, PresenceMembre

GREEN, ORANGE, RED = "vert", "orange", "rouge"
ORDER = {GREEN: 0, ORANGE: 1, RED: 2}


@dataclass
class Regle:
    label: str
    statut: str
    raison: str


def _pct(part: int, total: int) -> int:
    return round(100 * part / total) if total else 0


def _against(value: int, target: int, tolerance: int) -> str:
    """At or above target: green; less than `tolerance` points below: orange; else red."""
    return _gap(target - value, tolerance)


def _gap(gap: int, tolerance: int) -> str:
    if gap <= 0:
        return GREEN
    return ORANGE if gap <= tolerance else RED


@dataclass(frozen=True)
class Composition:
    """A council's active members as counts, no names: what its page, the dashboard and the
    reports show and what the representativeness rules read."""

    total: int = 0
    par_college: dict = dataclasses.field(  # label → count, every college
        default_factory=lambda: {label: 0 for _, label in Membre.College.choices}
    )
    habitants: int = 0
    femmes: int = 0
    femmes_habitants: int = 0
    residents: int = 0
    moins_25: int = 0

    @classmethod
    def of(cls, membres) -> "Composition":
        """From members already fetched (a council's page)."""
        actifs = [m for m in membres if m.statut == Membre.Statut.ACTIF]
        college = [m for m in actifs if m.college == Membre.College.HABITANTS]
        return cls(
            total=len(actifs),
            par_college={
                label: sum(m.college == value for m in actifs)
                for value, label in Membre.College.choices
            },
            habitants=len(college),
            femmes=sum(m.genre == Membre.Genre.FEMME for m in actifs),
            femmes_habitants=sum(m.genre == Membre.Genre.FEMME for m in college),
            residents=sum(m.resident_qpv for m in actifs),
            moins_25=sum(m.tranche_age == Membre.TrancheAge.MOINS_25 for m in actifs),
        )


def compositions(conseils) -> dict[int, Composition]:
    """Each council's composition counted by the database in one query, without reading any
    member's row (the dashboard and the reports); a council without active members is absent."""
    femme, habitant = Q(genre=Membre.Genre.FEMME), Q(college=Membre.College.HABITANTS)
    colleges = {f"college_{value}": label for value, label in Membre.College.choices}
    rows = (
        Membre.objects.actifs()
        .filter(conseil__in=conseils)
        .order_by()
        .values("conseil")
        .annotate(
            total=Count("pk"),
            femmes=Count("pk", filter=femme),
            femmes_habitants=Count("pk", filter=femme & habitant),
            residents=Count("pk", filter=Q(resident_qpv=True)),
            moins_25=Count("pk", filter=Q(tranche_age=Membre.TrancheAge.MOINS_25)),
            **{
                key: Count("pk", filter=Q(college=value))
                for key, value in zip(colleges, Membre.College.values, strict=True)
            },
        )
    )
    result = {}
    for row in rows:
        conseil = row.pop("conseil")
        par_college = {label: row.pop(key) for key, label in colleges.items()}
        result[conseil] = Composition(
            par_college=par_college,
            habitants=par_college[Membre.College.HABITANTS.label],
            **row,
        )
    return result


def representativite(conseil: ConseilCitoyen, membres, *, part_jeunes_qpv=None) -> list[Regle]:
    """Each rule of the council's type applied to its active members: `membres` is either the
    members already fetched or their `Composition` (`compositions`).

    Parity is judged within the habitants college (its members are drawn by sex); the share of
    members under 25 against the council's own target when set, else its type's, else the
    QPV's share of 16-25 year olds when known (`part_jeunes_qpv`), never against all
    under-25s (babies included)."""
    rules = conseil.type
    c = membres if isinstance(membres, Composition) else Composition.of(membres)
    total = c.total
    if total == 0:
        return [Regle("Composition", RED, "Aucun membre actif.")]
    habitants = _pct(c.habitants, total)
    residents = _pct(c.residents, total)
    vacants = max(rules.sieges - total, 0)
    result = []
    if c.habitants:
        femmes = _pct(c.femmes_habitants, c.habitants)
        result.append(
            Regle(
                "Parité",
                # Half the tolerance either side of the target is still parity.
                _gap(abs(femmes - rules.part_femmes_cible) - rules.tolerance // 2, rules.tolerance),
                f"{femmes} % de femmes au collège habitants (cible {rules.part_femmes_cible} %).",
            )
        )
    result += [
        Regle(
            "Collège habitants",
            GREEN if habitants >= rules.part_habitants_min else RED,
            f"{habitants} % des membres sont au collège habitants "
            f"(au moins {rules.part_habitants_min} % requis).",
        ),
        Regle(
            "Résidents du QPV",
            _against(residents, rules.part_residents_cible, rules.tolerance),
            f"{residents} % des membres habitent le QPV (cible {rules.part_residents_cible} %).",
        ),
        Regle(
            "Postes vacants",
            GREEN if vacants == 0 else ORANGE if vacants <= 2 else RED,
            f"{vacants} siège{'s' if vacants > 1 else ''} vacant{'s' if vacants > 1 else ''} "
            f"sur {rules.sieges}.",
        ),
    ]
    if conseil.part_jeunes_cible is not None:
        target, source = conseil.part_jeunes_cible, "cible fixée pour ce conseil"
    elif rules.part_jeunes_cible is not None:
        target, source = rules.part_jeunes_cible, "cible fixée pour ce type d'instance"
    elif part_jeunes_qpv is not None:
        target, source = round(float(part_jeunes_qpv)), "part des 16-25 ans dans le QPV"
    else:
        target = None
    if target is not None:
        jeunes = _pct(c.moins_25, total)
        result.append(
            Regle(
                "Âges",
                _against(jeunes, target, rules.tolerance),
                f"{jeunes} % de moins de 25 ans, pour {target} % ({source}).",
            )
        )
    return result


def worst(regles: list[Regle]) -> str:
    return max((r.statut for r in regles), key=ORDER.get, default=GREEN)


YOUNG_INDICATOR = "part_16_25"


def young_share_by_conseil(conseils) -> dict[int, object]:
    """Latest share of 16-25 year olds of each council's QPVs (one query for all)."""
    qpv_to_conseils: dict[int, list[int]] = {}
    for conseil in conseils:
        for qpv in conseil.qpvs.all():
            qpv_to_conseils.setdefault(qpv.pk, []).append(conseil.pk)
    latest = {}
    for valeur in ValeurIndicateur.objects.filter(
        indicateur__code=YOUNG_INDICATOR, qpv__in=list(qpv_to_conseils)
    ).order_by("annee"):
        for conseil_id in qpv_to_conseils[valeur.qpv_id]:
            latest[conseil_id] = valeur.valeur
    return latest


def steering_meetings(*, since):
    """Held meetings of steering instances (pilotage type, or seats for councils) since a date."""
    return Reunion.objects.filter(
        statut=Reunion.Statut.TENUE, debut__gte=since, debut__lte=timezone.now()
    ).filter(instance__type__pilotage=True) | Reunion.objects.filter(
        statut=Reunion.Statut.TENUE,
        debut__gte=since,
        debut__lte=timezone.now(),
        instance__sieges_conseil_citoyen=True,
    )


def presence_in_steering(conseil: ConseilCitoyen, *, days: int = 365) -> dict:
    """Share of steering meetings where at least one member of the council was present, and
    the meetings where none was."""
    meetings = list(
        steering_meetings(since=timezone.now() - timedelta(days=days))
        .distinct()
        .select_related("instance")
        .order_by("-debut")
    )
    attended = set(
        PresenceMembre.objects.filter(
            reunion__in=[m.pk for m in meetings], membre__conseil=conseil, statut="present"
        ).values_list("reunion_id", flat=True)
    )
    return {
        "total": len(meetings),
        "presentes": len(attended),
        "taux": _pct(len(attended), len(meetings)) if meetings else None,
        "sans_membre": [m for m in meetings if m.pk not in attended],
    }


def log_access(*, membre: Membre, user, action: str, page: str = "") -> None:
    AccesDonnees.objects.create(membre=membre, utilisateur=user, action=action, page=page[:200])


def log_display(*, membres, user, page: str) -> None:
    """One consultation per member whose identity a page or a list shows (one query)."""
    AccesDonnees.objects.bulk_create(
        [
            AccesDonnees(
                membre_id=m.pk,
                utilisateur=user,
                action=AccesDonnees.Action.CONSULTATION,
                page=page[:200],
            )
            for m in membres
            if not m.anonymise_le
        ]
    )


def membre_export(*, membre: Membre, user) -> str:
    """The member's record, attendance and access log as JSON, for an access request."""
    log_access(membre=membre, user=user, action=AccesDonnees.Action.EXPORT)
    data = {
        "instance": str(membre.conseil),
        "prenom": membre.prenom,
        "nom": membre.nom,
        "college": membre.get_college_display(),
        "genre": membre.get_genre_display(),
        "tranche_age": membre.get_tranche_age_display(),
        "habite_le_qpv": membre.resident_qpv,
        "organisation": str(membre.organisation) if membre.organisation else None,
        "designation": membre.get_designation_display(),
        "mandat_debut": membre.mandat_debut,
        "mandat_fin": membre.mandat_fin,
        "statut": membre.get_statut_display(),
        "email": membre.email,
        "telephone": membre.telephone,
        "base_legale": membre.get_base_legale_display(),
        "date_consentement": membre.date_consentement,
        "presences": [
            {"reunion": str(p.reunion), "presence": p.get_statut_display()}
            for p in membre.presences.select_related("reunion__instance")
        ],
        "formations": [
            {
                "cycle": str(i.session.cycle),
                "session": i.session.theme,
                "date": timezone.localtime(i.session.date),
                "lieu": i.session.lieu,
                "presence": i.get_presence_display(),
            }
            for i in membre.inscriptions.select_related("session__cycle").order_by("session__date")
        ],
        "journal_des_acces": [
            {"date": a.date, "action": a.get_action_display(), "par": str(a.utilisateur or "")}
            for a in membre.acces.select_related("utilisateur")
        ],
    }
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


@transaction.atomic
def membre_erase(*, membre: Membre, user, action=AccesDonnees.Action.EFFACEMENT) -> Membre:
    """Removes the identity and every copy of it; keeps what statistics need (college, gender,
    age band, dates)."""
    identity = str(membre)
    identity_parts = (membre.prenom, membre.nom)
    membre.prenom = "Membre"
    membre.nom = f"anonymisé n° {membre.pk}"
    membre.email = ""
    membre.telephone = ""
    membre.anonymise_le = timezone.now()
    if membre.statut == Membre.Statut.ACTIF:
        membre.statut = Membre.Statut.FIN_MANDAT
        membre.mandat_fin = membre.mandat_fin or timezone.localdate()
    membre.save()
    _scrub_admin_log(membre=membre, identity=identity)
    _scrub_free_text(prenom=identity_parts[0], nom=identity_parts[1], replacement=str(membre))
    # A pending import of the council may hold the member's row.
    transaction.on_commit(partial(previews.purge, conseil_pk=membre.conseil_id, expired_only=False))
    log_access(membre=membre, user=user, action=action)
    return membre


def _scrub_admin_log(*, membre: Membre, identity: str) -> None:
    """The admin's history keeps str(obj) of each change: the member's name, before erasure.
    (Membre has no django-simple-history records: nothing else keeps a copy.)"""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from .models import Inscription

    owned = Q(content_type=ContentType.objects.get_for_model(Membre), object_id=str(membre.pk))
    for model, pks in [
        (PresenceMembre, membre.presences.values_list("pk", flat=True)),
        (Inscription, membre.inscriptions.values_list("pk", flat=True)),
    ]:
        owned |= Q(
            content_type=ContentType.objects.get_for_model(model),
            object_id__in=[str(pk) for pk in pks],
        )
    entries = LogEntry.objects.filter(
        owned | Q(object_repr__icontains=identity) | Q(change_message__icontains=identity)
    )
    for entry in entries:
        entry.object_repr = entry.object_repr.replace(identity, str(membre))
        if entry.content_type_id == ContentType.objects.get_for_model(Membre).pk and (
            entry.object_id == str(membre.pk)
        ):
            entry.object_repr = str(membre)
        entry.change_message = entry.change_message.replace(identity, str(membre))
        entry.save(update_fields=["object_repr", "change_message"])


def _free_text_fields():
    """The free texts agents write about councils and trainings, where a name may have slipped."""
    from .models import (
        BesoinFormation,
        ConseilCitoyen,
        CycleQualification,
        Demarche,
        Evaluation,
        PointEtape,
        VerificationCharte,
    )

    return [
        (ConseilCitoyen, "notes"),
        (Demarche, "description"),
        (PointEtape, "texte"),
        (VerificationCharte, "commentaire"),
        (CycleQualification, "notes"),
        (BesoinFormation, "besoin"),
        (Evaluation, "commentaire"),
    ]


def _scrub_free_text(*, prenom: str, nom: str, replacement: str) -> None:
    """Replaces "Prénom Nom" and "Nom Prénom" (any case) in the agents' free texts."""
    if not (prenom.strip() and nom.strip()):
        return
    forms = [f"{prenom} {nom}", f"{nom} {prenom}"]
    pattern = re.compile("|".join(r"\s+".join(map(re.escape, f.split())) for f in forms), re.I)
    for model, field in _free_text_fields():
        found = Q()
        for form in forms:
            found |= Q(**{f"{field}__icontains": form})
        for obj in model.objects.filter(found).only("pk", field):
            setattr(obj, field, pattern.sub(replacement, getattr(obj, field)))
            obj.save(update_fields=[field])


def anonymise_expired(*, years: int | None = None) -> list[str]:
    """Anonymises members whose mandate ended more than `years` ago; says what it did."""
    years = settings.MEMBRES_CONSERVATION_ANNEES if years is None else years
    # A member who left (resigned, replaced) has mandat_fin set to the departure date: the
    # model refuses a departure without it.
    limit = timezone.localdate() - timedelta(days=365 * years)
    done = []
    for membre in Membre.objects.filter(anonymise_le__isnull=True, mandat_fin__lt=limit):
        conseil = membre.conseil_id
        membre_erase(membre=membre, user=None, action=AccesDonnees.Action.ANONYMISATION)
        done.append(f"membre n° {membre.pk} (instance n° {conseil})")
    return done


def council_member_counts(conseils) -> dict[int, int]:
    return dict(
        Membre.objects.actifs()
        .filter(conseil__in=conseils)
        .values("conseil")
        .annotate(n=Count("pk"))
        .values_list("conseil", "n")
    )


def current_charte():
    from .models import Charte

    return Charte.objects.filter(date_adoption__lte=timezone.localdate()).first()


@transaction.atomic
def charte_adopt(*, form) -> object:
    """A new version with its commitments; older versions stay as they were."""
    from .models import Engagement

    charte = form.save()
    Engagement.objects.bulk_create(
        [
            Engagement(charte=charte, ordre=n, libelle=text)
            for n, text in enumerate(form.cleaned_data["engagements"], 1)
        ]
    )
    return charte


def cycle_attendance(cycle) -> tuple[list, list]:
    """Sessions attended per member and per council over the cycle."""
    from .models import Inscription

    rows = (
        Inscription.objects.filter(session__cycle=cycle, presence=Inscription.Presence.PRESENT)
        .values("membre", "membre__conseil__nom")
        .annotate(n=Count("session", distinct=True))
    )
    par_conseil: dict[str, int] = {}
    for row in rows:
        par_conseil[row["membre__conseil__nom"]] = (
            par_conseil.get(row["membre__conseil__nom"], 0) + row["n"]
        )
    return list(rows), sorted(par_conseil.items())
