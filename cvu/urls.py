from django.urls import path

from .views import (
    aap,
    actions,
    calendrier,
    contrats,
    conventions,
    documents,
    engagements,
    imports,
    instances,
    intentions,
    mi_parcours,
    minutes,
    opendata,
    organisations,
    payments,
    pieces,
    programmes,
    projets,
    propositions,
    reunions,
)

app_name = "cvu"

urlpatterns = [
    # Actions
    path("actions/", actions.action_list, name="action_list"),
    path("actions/nouvelle/", actions.action_create, name="action_create"),
    path("actions/<int:pk>/", actions.action_detail, name="action_detail"),
    path("actions/<int:pk>/modifier/", actions.action_update, name="action_update"),
    path("actions/<int:pk>/supprimer/", actions.action_delete, name="action_delete"),
    path("actions/<int:pk>/documents/", documents.document_upload, name="document_upload"),
    path("actions/documents/<int:pk>/", documents.document_download, name="document_download"),
    path(
        "actions/documents/<int:pk>/supprimer/", documents.document_delete, name="document_delete"
    ),
    path("actions/import/", imports.action_import, name="action_import"),
    path(
        "actions/import/modele.xlsx", imports.action_import_template, name="action_import_template"
    ),
    # Programmes
    path("actions/programmes/", programmes.programme_list, name="programme_list"),
    path("actions/programmes/nouveau/", programmes.programme_create, name="programme_create"),
    path("actions/programmes/<int:pk>/", programmes.programme_detail, name="programme_detail"),
    path(
        "actions/programmes/<int:pk>/modifier/",
        programmes.programme_update,
        name="programme_update",
    ),
    path(
        "actions/programmes/<int:pk>/valider/",
        programmes.programme_validate,
        name="programme_validate",
    ),
    # Organisations
    path("organisations/", organisations.organisation_list, name="organisation_list"),
    path("organisations/nouvelle/", organisations.organisation_create, name="organisation_create"),
    path("organisations/<int:pk>/", organisations.organisation_detail, name="organisation_detail"),
    path(
        "organisations/<int:pk>/modifier/",
        organisations.organisation_update,
        name="organisation_update",
    ),
    # Governance: instances, connected schemes, meetings, follow-ups
    path("instances/", instances.instance_list, name="instance_list"),
    path("instances/nouvelle/", instances.instance_create, name="instance_create"),
    path("instances/<int:pk>/", instances.instance_detail, name="instance_detail"),
    path("instances/<int:pk>/modifier/", instances.instance_update, name="instance_update"),
    path("instances/dispositifs/", instances.dispositif_list, name="dispositif_list"),
    path("instances/dispositifs/nouveau/", instances.dispositif_create, name="dispositif_create"),
    path("instances/dispositifs/<int:pk>/", instances.dispositif_detail, name="dispositif_detail"),
    path("instances/dispositifs/<int:pk>/tfpb/", instances.dispositif_tfpb, name="dispositif_tfpb"),
    path(
        "instances/dispositifs/<int:pk>/postes/",
        instances.dispositif_postes,
        name="dispositif_postes",
    ),
    path(
        "instances/dispositifs/<int:pk>/modifier/",
        instances.dispositif_update,
        name="dispositif_update",
    ),
    path("reunions/", calendrier.calendrier, name="calendrier"),
    path("reunions/abonnement/", calendrier.abonnement, name="calendrier_abonnement"),
    path("reunions/calendrier/<str:token>.ics", calendrier.feed, name="calendrier_ics"),
    path("reunions/nouvelle/", reunions.reunion_create, name="reunion_create"),
    path("reunions/<int:pk>/", reunions.reunion_detail, name="reunion_detail"),
    path("reunions/<int:pk>/modifier/", reunions.reunion_update, name="reunion_update"),
    path("reunions/<int:pk>/supprimer/", reunions.reunion_delete, name="reunion_delete"),
    path("reunions/<int:pk>/presences/", reunions.reunion_presences, name="reunion_presences"),
    path("reunions/<int:pk>/compte-rendu/", reunions.reunion_cloture, name="reunion_cloture"),
    path("reunions/<int:pk>/rendez-vous.ics", calendrier.reunion_ics, name="reunion_ics"),
    path("reunions/<int:pk>/inviter/", calendrier.reunion_inviter, name="reunion_inviter"),
    path("reunions/<int:pk>/compte-rendu.pdf", minutes.download, name="reunion_pdf"),
    path(
        "reunions/<int:pk>/compte-rendu.docx",
        minutes.download,
        {"extension": "docx"},
        name="reunion_docx",
    ),
    path("reunions/<int:pk>/compte-rendu/generer/", minutes.build, name="reunion_pdf_build"),
    path("reunions/<int:pk>/compte-rendu/etat/", minutes.status, name="reunion_pdf_status"),
    path("propositions/", propositions.proposition_list, name="proposition_list"),
    path("propositions/nouvelle/", propositions.proposition_create, name="proposition_create"),
    path("propositions/<int:pk>/", propositions.proposition_detail, name="proposition_detail"),
    path(
        "propositions/<int:pk>/modifier/",
        propositions.proposition_update,
        name="proposition_update",
    ),
    path(
        "propositions/<int:pk>/supprimer/",
        propositions.proposition_delete,
        name="proposition_delete",
    ),
    path(
        "propositions/<int:pk>/inscrire/",
        propositions.proposition_inscrire,
        name="proposition_inscrire",
    ),
    path(
        "propositions/<int:pk>/retirer/",
        propositions.proposition_retirer,
        name="proposition_retirer",
    ),
    path(
        "propositions/<int:pk>/decider/",
        propositions.proposition_decider,
        name="proposition_decider",
    ),
    path("suivis/", reunions.suite_list, name="suite_list"),
    path("suivis/<int:pk>/modifier/", reunions.suite_update, name="suite_update"),
    path("suivis/<int:pk>/fait/", reunions.suite_done, name="suite_done"),
    # Calls for projects
    path("appels-a-projets/", aap.aap_list, name="aap_list"),
    path("appels-a-projets/nouveau/", aap.aap_create, name="aap_create"),
    path("appels-a-projets/mes-dossiers/", aap.mes_dossiers, name="mes_dossiers"),
    path("appels-a-projets/<int:pk>/", aap.aap_detail, name="aap_detail"),
    path("appels-a-projets/<int:pk>/modifier/", aap.aap_update, name="aap_update"),
    path("appels-a-projets/<int:pk>/import/", aap.aap_import, name="aap_import"),
    path("appels-a-projets/<int:pk>/attribuer/", aap.aap_assign, name="aap_assign"),
    path("appels-a-projets/<int:pk>/comites/nouveau/", aap.comite_create, name="comite_create"),
    path("appels-a-projets/comites/<int:pk>/", aap.comite_detail, name="comite_detail"),
    path("appels-a-projets/comites/<int:pk>/modifier/", aap.comite_update, name="comite_update"),
    path(
        "appels-a-projets/dossiers/<int:pk>/instruction/",
        aap.dossier_instruction,
        name="dossier_instruction",
    ),
    path("appels-a-projets/dossiers/<int:pk>/statut/", aap.dossier_statut, name="dossier_statut"),
    path(
        "appels-a-projets/dossiers/<int:pk>/notification.pdf",
        aap.dossier_notification,
        name="dossier_notification",
    ),
    path(
        "appels-a-projets/dossiers/<int:pk>/notification.docx",
        aap.dossier_notification,
        {"extension": "docx"},
        name="dossier_notification_docx",
    ),
    path("appels-a-projets/dossiers/<int:pk>/bilan/", aap.dossier_bilan, name="dossier_bilan"),
    # Contracts
    path("contrats/", contrats.contrat_list, name="contrat_list"),
    path("contrats/<int:pk>/", contrats.contrat_detail, name="contrat_detail"),
    path("contrats/<int:pk>/mi-parcours/", mi_parcours.mi_parcours, name="mi_parcours"),
    path(
        "contrats/<int:pk>/mi-parcours/modifier/",
        mi_parcours.mi_parcours_update,
        name="mi_parcours_update",
    ),
    path(
        "contrats/<int:pk>/mi-parcours/document.pdf",
        mi_parcours.mi_parcours_pdf,
        name="mi_parcours_pdf",
    ),
    path("projets-de-quartier/", projets.projet_list, name="projet_list"),
    path(
        "projets-de-quartier/<int:contrat_pk>/<int:qpv_pk>/",
        projets.projet_quartier,
        name="projet_quartier",
    ),
    path(
        "projets-de-quartier/<int:contrat_pk>/<int:qpv_pk>/modifier/",
        projets.projet_quartier_update,
        name="projet_quartier_update",
    ),
    path(
        "projets-de-quartier/<int:contrat_pk>/<int:qpv_pk>/fiche.pdf",
        projets.projet_quartier_pdf,
        name="projet_quartier_pdf",
    ),
    path("contrats/<int:pk>/engagements/", engagements.engagement_list, name="engagement_list"),
    path(
        "contrats/<int:pk>/engagements/nouveau/",
        engagements.engagement_create,
        name="engagement_create",
    ),
    path(
        "contrats/<int:pk>/engagements/revue/",
        engagements.engagement_revue,
        name="engagement_revue",
    ),
    path(
        "contrats/engagements/<int:pk>/modifier/",
        engagements.engagement_update,
        name="engagement_update",
    ),
    path(
        "contrats/engagements/<int:pk>/supprimer/",
        engagements.engagement_delete,
        name="engagement_delete",
    ),
    path(
        "contrats/objectifs/<int:pk>/evaluation/",
        contrats.objectif_evaluation,
        name="objectif_evaluation",
    ),
    path(
        "contrats/objectifs/<int:pk>/indicateurs/",
        contrats.objectif_indicateurs,
        name="objectif_indicateurs",
    ),
    path(
        "contrats/indicateurs-resultat/<int:pk>/valeurs/",
        contrats.indicateur_valeurs,
        name="indicateur_valeurs",
    ),
    # Porteurs: fiches d'intention and échanges (cvu.views.intentions)
    path("porteurs/intentions/", intentions.intention_list, name="intention_list"),
    path("porteurs/intentions/nouvelle/", intentions.intention_create, name="intention_create"),
    path("porteurs/intentions/<int:pk>/", intentions.intention_detail, name="intention_detail"),
    path(
        "porteurs/intentions/<int:pk>/modifier/",
        intentions.intention_update,
        name="intention_update",
    ),
    path(
        "porteurs/intentions/<int:pk>/supprimer/",
        intentions.intention_delete,
        name="intention_delete",
    ),
    path(
        "organisations/<int:pk>/echanges/nouveau/",
        intentions.echange_create,
        name="echange_create",
    ),
    path("porteurs/echanges/<int:pk>/modifier/", intentions.echange_update, name="echange_update"),
    path("porteurs/echanges/<int:pk>/etape-faite/", intentions.echange_done, name="echange_done"),
    path("porteurs/echanges/<int:pk>/supprimer/", intentions.echange_delete, name="echange_delete"),
    # Porteurs: pieces of the administrative file (cvu.views.pieces)
    path("organisations/<int:pk>/pieces/", pieces.piece_upload, name="piece_upload"),
    path("organisations/pieces/<int:pk>/", pieces.piece_download, name="piece_download"),
    path("organisations/pieces/<int:pk>/supprimer/", pieces.piece_delete, name="piece_delete"),
    # Porteurs: conventions, payments and clawbacks (cvu.views.conventions)
    path("actions/conventions/modeles/", conventions.modele_list, name="modele_convention_list"),
    path(
        "actions/conventions/modeles/nouveau/",
        conventions.modele_create,
        name="modele_convention_create",
    ),
    path(
        "actions/conventions/modeles/<int:pk>/",
        conventions.modele_detail,
        name="modele_convention_detail",
    ),
    path(
        "actions/conventions/modeles/<int:pk>/modifier/",
        conventions.modele_update,
        name="modele_convention_update",
    ),
    path(
        "actions/<int:pk>/convention/etablir/",
        conventions.convention_create,
        name="convention_create",
    ),
    path(
        "actions/conventions/<int:pk>/modifier/",
        conventions.convention_update,
        name="convention_update",
    ),
    path(
        "actions/conventions/<int:pk>/signatures/",
        conventions.convention_sign,
        name="convention_sign",
    ),
    # The funder's act, payments and clawbacks (cvu.views.payments)
    path(
        "actions/financements/<int:pk>/acte/",
        payments.financement_acte,
        name="financement_acte",
    ),
    path(
        "actions/financements/<int:pk>/versements/planifier/",
        payments.versement_schedule,
        name="versement_schedule",
    ),
    path(
        "actions/financements/<int:pk>/versements/nouveau/",
        payments.versement_add,
        name="versement_add",
    ),
    path(
        "actions/versements/<int:pk>/enregistrer/",
        payments.versement_record,
        name="versement_record",
    ),
    path(
        "actions/versements/<int:pk>/supprimer/",
        payments.versement_delete,
        name="versement_delete",
    ),
    path(
        "actions/financements/<int:pk>/reversements/nouveau/",
        payments.reversement_request,
        name="reversement_request",
    ),
    path(
        "actions/reversements/<int:pk>/",
        payments.reversement_update,
        name="reversement_update",
    ),
    # Open data: données essentielles des conventions de subvention (cvu.views.opendata)
    path("donnees-essentielles/", opendata.donnees_essentielles, name="donnees_essentielles"),
]
