"""Two default convention templates for the collectivité's own grants: an annual one and a
multi-year one (CPO, amounts per year), which the service then edits on its page. Their
$placeholders are those of cvu.conventions.PLACEHOLDERS."""

from django.db import migrations

COMMON_OBLIGATIONS = (
    "Article 5 – Obligations du porteur\n"
    "$porteur s'engage à :\n"
    "- mettre en œuvre l'action dans les quartiers prioritaires de la politique de la ville "
    "et au bénéfice de leurs habitants ;\n"
    "- mentionner le soutien de $collectivite dans toute communication relative à l'action ;\n"
    "- informer sans délai $collectivite de toute modification de ses statuts, de ses "
    "dirigeants, de sa domiciliation bancaire ou du déroulement de l'action ;\n"
    "- respecter le contrat d'engagement républicain qu'il a souscrit en application de "
    "l'article 10-1 de la loi n° 2000-321 du 12 avril 2000 ;\n"
    "- transmettre, dans les six mois suivant la fin de chaque exercice, le compte-rendu "
    "financier de l'action (Cerfa n° 15059), accompagné d'un bilan qualitatif et des "
    "indicateurs d'évaluation (nombre de bénéficiaires, dont habitants des quartiers "
    "prioritaires, répartition femmes-hommes et par âge) ;\n"
    "- transmettre ses comptes annuels approuvés et le rapport d'activité du dernier exercice "
    "clos.\n\n"
    "Article 6 – Contrôle\n"
    "$collectivite peut contrôler à tout moment, sur pièces et sur place, la réalisation de "
    "l'action et l'emploi de la subvention. $porteur tient à sa disposition tout document "
    "administratif et comptable utile à ce contrôle.\n\n"
    "Article 7 – Reversement\n"
    "En cas d'inexécution, de modification substantielle sans accord écrit de $collectivite, "
    "de retard significatif dans l'exécution de l'action ou de dépenses réalisées inférieures "
    "au montant versé, $collectivite peut exiger le reversement de tout ou partie des sommes "
    "versées, par l'émission d'un titre de recette.\n\n"
    "Article 8 – Résiliation\n"
    "En cas de non-respect par l'une des parties de ses engagements, la présente convention "
    "peut être résiliée de plein droit par l'autre partie à l'expiration d'un délai d'un mois "
    "suivant l'envoi d'une lettre recommandée avec accusé de réception valant mise en demeure "
    "restée sans effet.\n\n"
    "Article 9 – Litiges\n"
    "Les parties s'efforcent de régler à l'amiable tout différend relatif à l'exécution de la "
    "présente convention. À défaut, le litige est porté devant le tribunal administratif de "
    "Besançon."
)

PARTIES = (
    "Entre\n"
    "$collectivite, représentée par $signataire, agissant en vertu de la décision d'attribution "
    "$reference_decision du $date_decision, ci-après désignée « la collectivité »,\n\n"
    "Et\n"
    "$porteur, SIRET $siret_porteur, dont le siège est situé $adresse_porteur, représenté "
    "par son représentant légal, ci-après désigné « le porteur ».\n\n"
    "Vu la loi n° 2000-321 du 12 avril 2000 relative aux droits des citoyens dans leurs "
    "relations avec les administrations, notamment son article 10, et le décret n° 2001-495 "
    "du 6 juin 2001 ; vu le contrat de ville en vigueur ; vu la demande de subvention "
    "présentée par le porteur (dossier Dauphin n° $numero_dauphin) ;\n\n"
    "Il est convenu ce qui suit :"
)

ANNUAL = (
    PARTIES + "\n\n"
    "Article 1 – Objet\n"
    "Par la présente convention, le porteur s'engage à réaliser, à son initiative et sous sa "
    "responsabilité, l'action « $action » :\n"
    "$objet\n"
    "La collectivité contribue financièrement à cette action, qui s'inscrit dans les "
    "orientations du contrat de ville. Elle n'attend aucune contrepartie directe de cette "
    "contribution.\n\n"
    "Article 2 – Durée\n"
    "La convention porte sur l'exercice $annee_debut. Elle prend effet à la date de sa "
    "signature par les deux parties et prend fin à la réception et à l'examen du compte-rendu "
    "financier de l'action.\n\n"
    "Article 3 – Montant de la subvention\n"
    "La collectivité attribue au porteur une subvention de $montant pour l'exercice "
    "$annee_debut. Ce montant est un plafond : il ne peut être revu à la hausse.\n\n"
    "Article 4 – Modalités de versement\n"
    "La subvention est versée sur le compte bancaire du porteur :\n"
    "- une avance de 50 % à la signature de la présente convention ;\n"
    "- le solde après réception et examen du bilan de l'action et du compte-rendu financier "
    "(Cerfa n° 15059), au prorata des dépenses réalisées.\n\n" + COMMON_OBLIGATIONS
)

MULTI_YEAR = (
    PARTIES + "\n\n"
    "Article 1 – Objet\n"
    "Par la présente convention, le porteur s'engage à réaliser, à son initiative et sous sa "
    "responsabilité, le programme d'actions « $action » :\n"
    "$objet\n"
    "La collectivité contribue financièrement à ce programme, qui s'inscrit dans les "
    "orientations du contrat de ville, pour la durée de la convention. Elle n'attend aucune "
    "contrepartie directe de cette contribution.\n\n"
    "Article 2 – Durée\n"
    "La convention est conclue pour $duree ans, de $annee_debut à $annee_fin. Elle prend "
    "effet à la date de sa signature par les deux parties.\n\n"
    "Article 3 – Montant de la subvention\n"
    "La collectivité attribue au porteur une subvention d'un montant total de $montant, "
    "répartie comme suit :\n"
    "$montant_par_annee\n"
    "Le montant de chaque année au-delà de la première est versé sous réserve du vote des "
    "crédits correspondants au budget de la collectivité et du respect par le porteur de ses "
    "obligations, notamment la remise du compte-rendu financier de l'année précédente.\n\n"
    "Article 4 – Modalités de versement\n"
    "Chaque année, la subvention est versée sur le compte bancaire du porteur :\n"
    "- une avance de 50 % du montant de l'année, à la signature de la présente convention "
    "pour la première année, puis en début d'exercice ;\n"
    "- le solde après réception et examen du bilan de l'année et du compte-rendu financier "
    "(Cerfa n° 15059), au prorata des dépenses réalisées.\n\n" + COMMON_OBLIGATIONS + "\n\n"
    "Article 10 – Évaluation\n"
    "Un bilan d'étape est présenté chaque année ; l'évaluation finale des objectifs de la "
    "convention est conduite au cours de la dernière année, avant tout renouvellement."
)


def fill_modeles(apps, schema_editor):
    ModeleConvention = apps.get_model("cvu", "ModeleConvention")
    if ModeleConvention.objects.exists():
        return
    ModeleConvention.objects.bulk_create(
        [
            ModeleConvention(
                nom="Convention annuelle de subvention", type="annuelle", texte=ANNUAL
            ),
            ModeleConvention(
                nom="Convention pluriannuelle d'objectifs (CPO)",
                type="pluriannuelle",
                texte=MULTI_YEAR,
            ),
        ]
    )


def remove_modeles(apps, schema_editor):
    ModeleConvention = apps.get_model("cvu", "ModeleConvention")
    ModeleConvention.objects.filter(
        conventions__isnull=True,
        nom__in=["Convention annuelle de subvention", "Convention pluriannuelle d'objectifs (CPO)"],
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("cvu", "0007_versements_reprise")]

    operations = [migrations.RunPython(fill_modeles, remove_modeles)]
