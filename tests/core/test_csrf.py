"""Every POST form carries its CSRF token (a form without one fails in a real browser)."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from cvu.models import Instance, Reunion, TypeInstance
from participation.models import ConseilCitoyen, Membre, TypeParticipation
from reporting.models import Rapport
from tests.cvu.aap_factories import AppelFactory, ComiteFactory
from tests.cvu.factories import ActionFactory, FinancementFactory
from tests.quartiers.factories import ObservationFactory, ValeurIndicateurFactory

FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S | re.I)


@pytest.mark.django_db
def test_post_forms_have_a_csrf_token(client, manager, qpv, commune):
    observation = ObservationFactory(qpv=qpv)
    valeur = ValeurIndicateurFactory(qpv=qpv)
    action = ActionFactory(qpvs=[qpv])
    instance = Instance.objects.create(
        nom="GTC", type=TypeInstance.objects.create(nom="GTC"), echelle="communale"
    )
    start = timezone.now() + timedelta(days=2)
    reunion = Reunion.objects.create(instance=instance, debut=start, fin=start + timedelta(hours=1))
    conseil = ConseilCitoyen.objects.create(
        nom="CC", type=TypeParticipation.objects.create(nom="CC"), commune=commune
    )
    membre = Membre.objects.create(
        conseil=conseil,
        prenom="A",
        nom="B",
        college="habitants",
        genre="femme",
        tranche_age="40_59",
        designation="volontaire",
        mandat_debut=date(2025, 1, 1),
        base_legale="mission_publique",
    )
    appel = AppelFactory(contrat=action.contrat)
    dossier = ActionFactory(contrat=appel.contrat, appel=appel, qpvs=[qpv], statut="en_cours")
    FinancementFactory(action=dossier)
    comite = ComiteFactory(appel=appel)
    comite.dossiers.set([dossier])
    rapport = Rapport.objects.create(
        type="participation", titre="En échec", demande_par=manager, statut="echec"
    )
    urls = [
        "/comptes/mot-de-passe/",
        "/comptes/preferences/",
        qpv.get_absolute_url(),
        f"/quartiers/observations/{observation.pk}/modifier/",
        f"/quartiers/observations/{observation.pk}/supprimer/",
        f"/quartiers/valeurs/{valeur.pk}/modifier/",
        f"/quartiers/valeurs/{valeur.pk}/supprimer/",
        "/actions/nouvelle/",
        action.get_absolute_url(),
        f"/actions/{action.pk}/supprimer/",
        "/actions/import/",
        "/organisations/nouvelle/",
        "/actions/programmes/nouveau/",
        "/instances/nouvelle/",
        "/instances/dispositifs/nouveau/",
        "/reunions/nouvelle/",
        reunion.get_absolute_url(),
        f"/reunions/{reunion.pk}/presences/",
        f"/reunions/{reunion.pk}/compte-rendu/",
        f"/reunions/{reunion.pk}/supprimer/",
        "/reunions/abonnement/",
        "/participation/conseils/nouveau/",
        f"/participation/conseils/{conseil.pk}/membres/nouveau/",
        f"/participation/membres/{membre.pk}/effacer/",
        "/participation/demarches/nouvelle/",
        "/participation/charte/nouvelle-version/",
        "/appels-a-projets/nouveau/",
        f"/appels-a-projets/{appel.pk}/modifier/",
        f"/appels-a-projets/{appel.pk}/import/",
        f"/appels-a-projets/{appel.pk}/comites/nouveau/",
        comite.get_absolute_url(),
        f"/appels-a-projets/comites/{comite.pk}/modifier/",
        f"/appels-a-projets/dossiers/{dossier.pk}/instruction/",
        f"/appels-a-projets/dossiers/{dossier.pk}/bilan/",
        dossier.get_absolute_url(),
        "/rapports/",
        rapport.get_absolute_url(),
    ]
    client.force_login(manager)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        forms = FORM.findall(response.content.decode())
        assert forms, url
        for form in forms:
            assert 'name="csrfmiddlewaretoken"' in form, url
    client.logout()
    for url in ["/comptes/connexion/", "/comptes/mot-de-passe/oubli/"]:
        for form in FORM.findall(client.get(url).content.decode()):
            assert 'name="csrfmiddlewaretoken"' in form, url
