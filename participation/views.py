from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.exports import FORMATS, export_response
from core.forms import save_if_editable
from core.lists import paginate
from core.presences import Attendee, presence_formset
from cvu import rights
from cvu.models import Reunion

from . import imports, previews, services
from .filters import ConseilFilterSet, CycleFilterSet, DemarcheFilterSet
from .forms import (
    BesoinForm,
    CharteForm,
    ConseilForm,
    CycleForm,
    DemarcheForm,
    EvaluationForm,
    MembreForm,
    PointEtapeForm,
    SessionForm,
    VerificationForm,
)
from .models import (
    AccesDonnees,
    BesoinFormation,
    Charte,
    ConseilCitoyen,
    CycleQualification,
    Demarche,
    Evaluation,
    Inscription,
    Membre,
    PointEtape,
    PresenceMembre,
    SessionFormation,
    VerificationCharte,
)


def _conseil(request: HttpRequest, pk: int, *, write: bool = False) -> ConseilCitoyen:
    return rights.get_visible(
        request.user,
        ConseilCitoyen.objects.select_related("type", "commune", "structure_porteuse"),
        pk,
        write=write,
    )


def _membre(request: HttpRequest, pk: int) -> Membre:
    """A member's personal page: 404 for anyone not entitled to see their identity."""
    return get_object_or_404(
        Membre.objects.visible_to(request.user).select_related("conseil", "organisation"), pk=pk
    )


# ---------------------------------------------------------------- councils


# Counts only: members' identities never leave through a list export.
CONSEIL_COLUMNS = [
    ("Instance de participation", lambda r: r["conseil"].nom),
    ("Type", lambda r: str(r["conseil"].type)),
    ("Commune", lambda r: r["conseil"].commune.nom if r["conseil"].commune else ""),
    ("QPV", lambda r: ", ".join(q.nom for q in r["conseil"].qpvs.all())),
    ("Membres actifs", lambda r: r["stats"].total),
    ("Femmes", lambda r: r["stats"].femmes),
    ("Résidents des QPV", lambda r: r["stats"].residents),
    ("Représentativité", lambda r: LIBELLES_ETAT.get(r["etat"], r["etat"])),
    (
        "Points d'attention",
        lambda r: " ; ".join(f"{x.label} : {x.raison}" for x in r["regles"] if x.statut != "vert"),
    ),
]
LIBELLES_ETAT = {"vert": "conforme", "orange": "à surveiller", "rouge": "non conforme"}


def _conseil_rows(user, conseils) -> list[dict]:
    """Each council with its representativeness, for the page's councils or the export's."""
    conseils = list(conseils)
    jeunes = services.young_share_by_conseil(conseils)
    compositions = services.compositions(conseils)
    mine = (
        set(
            ConseilCitoyen.objects.editable_by(user)
            .filter(pk__in=[conseil.pk for conseil in conseils])
            .values_list("pk", flat=True)
        )
        if user.is_chef_projet
        else set()
    )
    rows = []
    for conseil in conseils:
        composition = compositions.get(conseil.pk, services.Composition())
        regles = services.representativite(
            conseil, composition, part_jeunes_qpv=jeunes.get(conseil.pk)
        )
        rows.append(
            {
                "conseil": conseil,
                "regles": regles,
                "etat": services.worst(regles),
                "stats": composition,
                "mine": conseil.pk in mine,
            }
        )
    return rows


def conseil_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        ConseilCitoyen.objects.visible_to(request.user)
        .select_related("type", "commune")
        .prefetch_related("qpvs")
        .order_by("commune__nom", "nom")
    )
    filterset = ConseilFilterSet(request.GET, queryset=queryset, request=request)
    if request.GET.get("export") in FORMATS:
        return export_response(
            _conseil_rows(request.user, filterset.qs),
            CONSEIL_COLUMNS,
            filename="conseils",
            fmt=request.GET["export"],
            request=request,
        )
    page = paginate(request, filterset.qs)
    return render(
        request,
        "participation/conseil_list.html",
        {
            "filter": filterset,
            "page_obj": page,
            "rows": _conseil_rows(request.user, page),
            "can_create": rights.may_create(request.user, ConseilCitoyen),
        },
    )


@never_cache
def conseil_detail(request: HttpRequest, pk: int) -> HttpResponse:
    conseil = _conseil(request, pk)
    all_members = list(Membre.objects.filter(conseil=conseil).select_related("organisation"))
    # Names only for those who follow the council (same rule as Membre.visible_to).
    may_see_names = ConseilCitoyen.objects.editable_by(request.user).filter(pk=pk).exists()
    jeunes = services.young_share_by_conseil([conseil])
    composition = services.Composition.of(all_members)
    regles = services.representativite(conseil, composition, part_jeunes_qpv=jeunes.get(conseil.pk))
    context = {
        "conseil": conseil,
        "regles": regles,
        "etat": services.worst(regles),
        "stats": composition,
        "may_see_names": may_see_names,
        "actifs": [m for m in all_members if m.statut == Membre.Statut.ACTIF]
        if may_see_names
        else [],
        "anciens": [m for m in all_members if m.statut != Membre.Statut.ACTIF]
        if may_see_names
        else [],
        "presence": services.presence_in_steering(conseil),
        "formations": Inscription.objects.filter(membre__conseil=conseil, presence="present")
        .values("session__theme", "session__date")
        .annotate(n=Count("membre"))
        .order_by("-session__date"),
        "can_edit": may_see_names,
    }
    if may_see_names:
        services.log_display(membres=all_members, user=request.user, page=request.path)
    return render(request, "participation/conseil_detail.html", context)


def _conseil_form_page(request: HttpRequest, conseil: ConseilCitoyen | None) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = ConseilForm(data, instance=conseil or ConseilCitoyen())
    if request.method == "POST" and form.is_valid():
        saved = save_if_editable(
            form,
            request.user,
            message="Cette commune ne relève pas de votre secteur.",
            field="commune",
        )
        if saved:
            messages.success(request, "Instance de participation enregistrée.")
            return redirect(saved)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "participation/conseil_form.html",
        {"form": form, "conseil": conseil},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def conseil_create(request: HttpRequest) -> HttpResponse:
    rights.require_create(request.user, ConseilCitoyen)
    return _conseil_form_page(request, None)


@require_http_methods(["GET", "POST"])
def conseil_update(request: HttpRequest, pk: int) -> HttpResponse:
    return _conseil_form_page(request, _conseil(request, pk, write=True))


# ---------------------------------------------------------------- members


def _membre_form_page(request, conseil, membre):
    data = request.POST if request.method == "POST" else None
    form = MembreForm(data, instance=membre or Membre(conseil=conseil))
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        services.log_access(
            membre=saved, user=request.user, action=AccesDonnees.Action.MODIFICATION
        )
        messages.success(request, "Membre enregistré.")
        return redirect(conseil)
    if membre is not None:
        services.log_display(membres=[membre], user=request.user, page=request.path)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "participation/membre_form.html",
        {"form": form, "conseil": conseil, "membre": membre},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def membre_create(request: HttpRequest, pk: int) -> HttpResponse:
    return _membre_form_page(request, _conseil(request, pk, write=True), None)


@never_cache
@require_http_methods(["GET", "POST"])
def membre_update(request: HttpRequest, pk: int) -> HttpResponse:
    membre = _membre(request, pk)
    rights.require(
        not membre.anonymise_le, "Ce membre a été anonymisé : sa fiche ne se modifie plus."
    )
    return _membre_form_page(request, membre.conseil, membre)


@never_cache
def membre_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membre = _membre(request, pk)
    services.log_access(
        membre=membre,
        user=request.user,
        action=AccesDonnees.Action.CONSULTATION,
        page=request.path,
    )
    context = {
        "membre": membre,
        "presences": membre.presences.select_related("reunion__instance").order_by(
            "-reunion__debut"
        ),
        "acces": membre.acces.select_related("utilisateur")[:30],
    }
    return render(request, "participation/membre_detail.html", context)


@never_cache
def membre_export(request: HttpRequest, pk: int) -> HttpResponse:
    membre = _membre(request, pk)
    response = HttpResponse(
        services.membre_export(membre=membre, user=request.user),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="membre-{membre.pk}.json"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def membre_erase(request: HttpRequest, pk: int) -> HttpResponse:
    membre = _membre(request, pk)
    if request.method == "POST":
        conseil = membre.conseil
        services.membre_erase(membre=membre, user=request.user)
        messages.success(
            request, "Identité et coordonnées effacées ; les statistiques sont conservées."
        )
        return redirect(conseil)
    services.log_display(membres=[membre], user=request.user, page=request.path)
    return render(request, "participation/membre_confirm_erase.html", {"membre": membre})


# ---------------------------------------------------------------- presence in instances


def steering_list(request: HttpRequest) -> HttpResponse:
    since = timezone.now() - timedelta(days=365)
    meetings = (
        services.steering_meetings(since=since)
        .distinct()
        .select_related("instance__type")
        .order_by("-debut")
    )
    return render(request, "participation/steering_list.html", {"reunions": meetings})


@never_cache
@require_http_methods(["GET", "POST"])
def steering_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """Council members' attendance at a meeting: members the user may see, three buttons."""
    reunion = get_object_or_404(
        Reunion.objects.visible_to(request.user).select_related("instance"), pk=pk
    )
    membres = list(
        Membre.objects.visible_to(request.user)
        .actifs()
        .select_related("conseil")
        .order_by("conseil__nom", "nom")
    )
    rights.require(
        bool(membres),
        "Vous ne suivez aucun conseil : la présence de ses membres ne vous est pas accessible.",
    )
    recorded = {p.membre_id: p.statut for p in PresenceMembre.objects.filter(reunion=reunion)}
    by_key = {f"m-{membre.pk}": membre for membre in membres}
    attendees = [
        Attendee(key=key, name=str(m), detail=str(m.conseil), status=recorded.get(m.pk, ""))
        for key, m in by_key.items()
    ]
    data = request.POST if request.method == "POST" else None
    formset = presence_formset(
        data, people=attendees, choices=PresenceMembre._meta.get_field("statut").choices
    )
    if data is not None and formset.is_valid():
        with transaction.atomic():
            for key, statut in formset.changed_statuses().items():
                if statut:
                    PresenceMembre.objects.update_or_create(
                        reunion=reunion, membre=by_key[key], defaults={"statut": statut}
                    )
        messages.success(request, "Présences des membres enregistrées.")
        return redirect("participation:steering_attendance", pk=reunion.pk)
    services.log_display(membres=membres, user=request.user, page=request.path)
    return render(
        request,
        "participation/steering_attendance.html",
        {"reunion": reunion, "formset": formset},
        status=400 if data is not None else 200,
    )


# ---------------------------------------------------------------- démarches


DEMARCHE_COLUMNS = [
    ("Démarche", lambda d: d.titre),
    ("Type", lambda d: d.get_type_display()),
    ("Initiateur", lambda d: d.get_initiateur_display()),
    ("Organisation", lambda d: str(d.organisation or "")),
    ("Statut", lambda d: d.get_statut_display()),
    ("Rôle de PMA", lambda d: d.get_role_pma_display()),
    ("Début", lambda d: d.date_debut),
    ("Fin", lambda d: d.date_fin),
    ("Communes", lambda d: ", ".join(c.nom for c in d.communes.all())),
    ("QPV", lambda d: ", ".join(q.nom for q in d.qpvs.all())),
    ("Référent", lambda d: str(d.referent or "")),
]


def demarche_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        Demarche.objects.visible_to(request.user)
        .select_related("organisation", "referent")
        .prefetch_related("communes", "qpvs")
    )
    filterset = DemarcheFilterSet(request.GET, queryset=queryset)
    if request.GET.get("export") in FORMATS:
        return export_response(
            filterset.qs,
            DEMARCHE_COLUMNS,
            filename="demarches",
            fmt=request.GET["export"],
            request=request,
        )
    page = paginate(request, filterset.qs)
    return render(
        request,
        "participation/demarche_list.html",
        {
            "filter": filterset,
            "page_obj": page,
            "can_create": rights.may_create(request.user, Demarche),
        },
    )


def _demarche(request: HttpRequest, pk: int, *, write: bool = False) -> Demarche:
    return rights.get_visible(
        request.user, Demarche.objects.select_related("organisation", "referent"), pk, write=write
    )


@require_http_methods(["GET", "POST"])
def demarche_detail(request: HttpRequest, pk: int) -> HttpResponse:
    demarche = _demarche(request, pk)
    can_edit = rights.may_change(request.user, demarche)
    form = PointEtapeForm(initial={"date": timezone.localdate()})
    if request.method == "POST":
        rights.require_change(request.user, demarche)
        form = PointEtapeForm(
            request.POST, instance=PointEtape(demarche=demarche, auteur=request.user)
        )
        if form.is_valid():
            form.save()
            messages.success(request, "Point d'étape enregistré.")
            return redirect(f"{demarche.get_absolute_url()}#points")
    charte = services.current_charte()
    verifications = {
        v.engagement_id: v for v in demarche.verifications.select_related("engagement")
    }
    engagements = list(charte.engagements.all()) if charte else []
    context = {
        "demarche": demarche,
        "can_edit": can_edit,
        "form": form,
        "points": demarche.points.select_related("auteur"),
        "charte": charte,
        "controle": [(e, verifications.get(e.pk)) for e in engagements],
        "actions": demarche.actions.all(),
    }
    return render(
        request, "participation/demarche_detail.html", context, status=400 if form.errors else 200
    )


def _demarche_form_page(request: HttpRequest, demarche: Demarche | None) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    instance = demarche or Demarche(referent=request.user if request.user.is_chef_projet else None)
    form = DemarcheForm(data, instance=instance)
    if request.method == "POST" and form.is_valid():
        saved = save_if_editable(
            form, request.user, message="Cette démarche ne relèverait plus de votre secteur."
        )
        if saved:
            messages.success(request, "Démarche enregistrée.")
            return redirect(saved)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "participation/demarche_form.html",
        {"form": form, "demarche": demarche},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def demarche_create(request: HttpRequest) -> HttpResponse:
    rights.require_create(request.user, Demarche)
    return _demarche_form_page(request, None)


@require_http_methods(["GET", "POST"])
def demarche_update(request: HttpRequest, pk: int) -> HttpResponse:
    return _demarche_form_page(request, _demarche(request, pk, write=True))


@require_http_methods(["GET", "POST"])
def demarche_charte(request: HttpRequest, pk: int) -> HttpResponse:
    """The démarche checked against each commitment of the charter in force."""
    demarche = _demarche(request, pk, write=True)
    charte = services.current_charte()
    if charte is None:
        messages.error(request, "Aucune charte n'est adoptée : enregistrez-la d'abord.")
        return redirect(demarche)
    engagements = list(charte.engagements.all())
    existing = {v.engagement_id: v for v in demarche.verifications.all()}
    data = request.POST if request.method == "POST" else None
    forms_ = [
        VerificationForm(
            data,
            prefix=f"e{e.pk}",
            instance=existing.get(e.pk) or VerificationCharte(demarche=demarche, engagement=e),
        )
        for e in engagements
    ]
    if request.method == "POST" and all(f.is_valid() for f in forms_):
        with transaction.atomic():
            for f in forms_:
                f.save()
        messages.success(request, "Vérification de la charte enregistrée.")
        return redirect(f"{demarche.get_absolute_url()}#charte")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "participation/demarche_charte.html",
        {
            "demarche": demarche,
            "charte": charte,
            "rows": list(zip(engagements, forms_, strict=True)),
        },
        status=status,
    )


# ---------------------------------------------------------------- charter


def charte(request: HttpRequest) -> HttpResponse:
    versions = Charte.objects.visible_to(request.user).select_related("instance_adoption")
    return render(
        request,
        "participation/charte.html",
        {
            "courante": services.current_charte(),
            "versions": versions,
            "can_edit": request.user.sees_everything_as_manager,
        },
    )


@require_http_methods(["GET", "POST"])
def charte_create(request: HttpRequest) -> HttpResponse:
    rights.require_manager(request.user)
    data = request.POST if request.method == "POST" else None
    courante = services.current_charte()
    initial = {}
    if courante:
        initial = {
            "texte": courante.texte,
            "engagements": "\n".join(e.libelle for e in courante.engagements.all()),
        }
    form = CharteForm(data, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.charte_adopt(form=form)
        messages.success(request, "Nouvelle version de la charte enregistrée.")
        return redirect("participation:charte")
    status = 400 if request.method == "POST" else 200
    return render(request, "participation/charte_form.html", {"form": form}, status=status)


# ---------------------------------------------------------------- training cycle


CYCLE_COLUMNS = [
    ("Année", lambda c: c.annee),
    ("Cycle", lambda c: c.titre),
    ("Partenaires", lambda c: ", ".join(str(p) for p in c.partenaires.all())),
]


def cycle_list(request: HttpRequest) -> HttpResponse:
    queryset = CycleQualification.objects.visible_to(request.user).prefetch_related("partenaires")
    filterset = CycleFilterSet(request.GET, queryset=queryset)
    if request.GET.get("export") in FORMATS:
        return export_response(
            filterset.qs,
            CYCLE_COLUMNS,
            filename="cycles",
            fmt=request.GET["export"],
            request=request,
        )
    return render(
        request,
        "participation/cycle_list.html",
        {
            "filter": filterset,
            "page_obj": paginate(request, filterset.qs),
            "can_create": rights.may_create(request.user, CycleQualification),
        },
    )


@require_http_methods(["GET", "POST"])
def cycle_create(request: HttpRequest) -> HttpResponse:
    rights.require_create(request.user, CycleQualification)
    data = request.POST if request.method == "POST" else None
    form = CycleForm(data, initial={"annee": timezone.localdate().year})
    if request.method == "POST" and form.is_valid():
        cycle = form.save()
        messages.success(request, "Cycle de qualification créé.")
        return redirect(cycle)
    status = 400 if request.method == "POST" else 200
    return render(request, "participation/cycle_form.html", {"form": form}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def cycle_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(
        CycleQualification.objects.visible_to(request.user).prefetch_related("partenaires"),
        pk=pk,
    )
    sessions = (
        cycle.sessions.select_related("partenaire")
        .annotate(
            nb_inscrits=Count("inscriptions", distinct=True),
            nb_presents=Count(
                "inscriptions", filter=Q(inscriptions__presence="present"), distinct=True
            ),
            note_moyenne=Avg("evaluations__note"),
        )
        .order_by("date")
    )
    # A need is voiced by a council: recorded by whoever may change that council.
    conseils = ConseilCitoyen.objects.editable_by(request.user)
    can_add_need = request.user.is_writer and conseils.exists()
    besoin_form = BesoinForm(conseils=conseils)
    if request.method == "POST":
        rights.require(can_add_need, "Vous ne suivez aucune instance de participation.")
        besoin_form = BesoinForm(
            request.POST, instance=BesoinFormation(cycle=cycle), conseils=conseils
        )
        if besoin_form.is_valid():
            rights.require(rights.may_change(request.user, besoin_form.instance.conseil))
            besoin_form.save()
            messages.success(request, "Besoin enregistré.")
            return redirect(cycle)
    par_membre, par_conseil = services.cycle_attendance(cycle)
    visible = set(Membre.objects.visible_to(request.user).values_list("pk", flat=True))
    shown = list(
        Membre.objects.filter(pk__in=[r["membre"] for r in par_membre if r["membre"] in visible])
    )
    noms = {m.pk: str(m) for m in shown}
    services.log_display(membres=shown, user=request.user, page=request.path)
    context = {
        "cycle": cycle,
        "sessions": sessions,
        "besoins": cycle.besoins.select_related("conseil"),
        "par_conseil": par_conseil,
        "par_membre": [(noms[r["membre"]], r["n"]) for r in par_membre if r["membre"] in noms],
        "can_edit": rights.may_create(request.user, SessionFormation, parent=cycle),
        "can_add_need": can_add_need,
        "besoin_form": besoin_form,
    }
    return render(
        request,
        "participation/cycle_detail.html",
        context,
        status=400 if besoin_form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def session_create(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(CycleQualification.objects.visible_to(request.user), pk=pk)
    rights.require_create(request.user, SessionFormation, parent=cycle)
    data = request.POST if request.method == "POST" else None
    form = SessionForm(data, instance=SessionFormation(cycle=cycle))
    if request.method == "POST" and form.is_valid():
        session = form.save()
        messages.success(request, "Session enregistrée.")
        return redirect(session)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "participation/session_form.html", {"form": form, "cycle": cycle}, status=status
    )


# A choice of the session's grid, not a stored value: it takes a member off the session.
NON_INSCRIT = "non_inscrit"


@never_cache
@require_http_methods(["GET", "POST"])
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Invitations, attendance taken quickly, and evaluations of a training session."""
    session = get_object_or_404(
        SessionFormation.objects.filter(
            cycle__in=CycleQualification.objects.visible_to(request.user)
        ).select_related("cycle", "partenaire"),
        pk=pk,
    )
    membres = list(
        Membre.objects.visible_to(request.user)
        .actifs()
        .select_related("conseil")
        .order_by("conseil__nom", "nom")
    )
    inscriptions = {i.membre_id: i for i in session.inscriptions.all()}
    by_key = {f"m-{membre.pk}": membre for membre in membres}
    attendees = [
        Attendee(
            key=key,
            name=str(m),
            detail=str(m.conseil),
            status=inscriptions[m.pk].presence if m.pk in inscriptions else NON_INSCRIT,
        )
        for key, m in by_key.items()
    ]
    choices = [(NON_INSCRIT, "Non inscrit"), *Inscription.Presence.choices]
    evaluation_form = EvaluationForm()
    formset = presence_formset(
        None, people=attendees, choices=choices, disabled=not request.user.is_writer
    )
    if request.method == "POST":
        rights.require(request.user.is_writer)
        if request.POST.get("form") == "evaluation":
            evaluation_form = EvaluationForm(request.POST, instance=Evaluation(session=session))
            if evaluation_form.is_valid():
                evaluation_form.save()
                messages.success(request, "Évaluation enregistrée.")
                return redirect(session)
        else:
            formset = presence_formset(
                request.POST, people=attendees, choices=choices, required=True
            )
            if formset.is_valid():
                with transaction.atomic():
                    for key, presence in formset.changed_statuses().items():
                        membre = by_key[key]
                        if presence != NON_INSCRIT:
                            Inscription.objects.update_or_create(
                                session=session, membre=membre, defaults={"presence": presence}
                            )
                        elif membre.pk in inscriptions:
                            inscriptions[membre.pk].delete()
                total = session.inscriptions.count()
                messages.success(request, "Inscriptions et présences enregistrées.")
                if total > session.capacite:
                    messages.warning(
                        request,
                        f"{total} inscrits pour {session.capacite} places : la session est "
                        "au-delà de sa capacité.",
                    )
                return redirect(session)
    services.log_display(membres=membres, user=request.user, page=request.path)
    context = {
        "session": session,
        "formset": formset,
        "evaluations": session.evaluations.all(),
        "evaluation_form": evaluation_form,
        "nb_inscrits": len(inscriptions),
        "can_edit": request.user.is_writer,
    }
    return render(
        request,
        "participation/session_detail.html",
        context,
        status=400 if evaluation_form.errors or formset.is_bound else 200,
    )


# ---------------------------------------------------------------- import of members

IMPORT_SESSION_KEY = "participation_import"


@never_cache
@require_http_methods(["GET", "POST"])
def membre_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload, preview (nothing written), then confirm: all rows or none."""
    conseil = _conseil(request, pk, write=True)
    lignes, erreur, report = None, "", []
    if request.method == "POST" and request.POST.get("confirmer"):
        ref = request.session.get(IMPORT_SESSION_KEY)
        stored = previews.load(ref, conseil_pk=conseil.pk)
        if stored is None:
            messages.error(request, "Aucun fichier vérifié à importer : déposez-le à nouveau.")
            return redirect("participation:membre_import", pk=conseil.pk)
        content, filename = stored
        try:
            lignes = imports.check(conseil=conseil, content=content, filename=filename)
            count = imports.apply(lignes=lignes, user=request.user)
        except (imports.ImportFileError, ValidationError) as error:
            erreur = " ".join(getattr(error, "messages", [str(error)]))
        else:
            previews.discard(ref)
            del request.session[IMPORT_SESSION_KEY]
            messages.success(
                request,
                f"{count} membre{'s' if count > 1 else ''} importé{'s' if count > 1 else ''}.",
            )
            return redirect(conseil)
    elif request.method == "POST":
        upload = request.FILES.get("fichier")
        if upload is None:
            erreur = "Choisissez un fichier."
        elif upload.size > 1_000_000:
            erreur = "Le fichier dépasse 1 Mo."
        else:
            content = upload.read()
            try:
                lignes = imports.check(
                    conseil=conseil, content=content, filename=upload.name, report=report
                )
            except imports.ImportFileError as error:
                erreur = str(error)
            else:
                # The session keeps a random reference, never the file (names, e-mails);
                # only a file ready to import is kept, until confirmed or expired.
                previews.discard(request.session.pop(IMPORT_SESSION_KEY, None))
                if lignes and not any(ligne.erreurs for ligne in lignes):
                    request.session[IMPORT_SESSION_KEY] = previews.store(
                        conseil_pk=conseil.pk, content=content, filename=upload.name
                    )
    context = {
        "conseil": conseil,
        "lignes": lignes,
        "erreur": erreur,
        "valide": bool(lignes) and not any(ligne.erreurs for ligne in lignes),
        "colonnes": list(imports.COLUMNS.values()),
        "report": report,
    }
    status = 400 if erreur or (lignes and not context["valide"]) else 200
    return render(request, "participation/membre_import.html", context, status=status)
