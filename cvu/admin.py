from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Action,
    ActionTFPB,
    AppelAProjets,
    Bilan,
    Comite,
    Contact,
    ContratDeVille,
    Convention,
    Decision,
    DispositifConnexe,
    Document,
    Echange,
    ElementPlanAction,
    EngagementSignataire,
    Enveloppe,
    EvaluationMiParcours,
    FicheIntention,
    Financement,
    IndicateurAction,
    IndicateurResultat,
    Instance,
    Instruction,
    LigneFinancement,
    ModeleConvention,
    NoeudStrategie,
    Organisation,
    PieceOrganisation,
    PointOrdreDuJour,
    PosteAdulteRelais,
    PrioriteQuartier,
    ProgrammeActions,
    ProjetQuartier,
    PropositionReorientation,
    Reunion,
    Reversement,
    SuiteADonner,
    Tag,
    TransitionStatut,
    TypeInstance,
    ValeurResultat,
    Versement,
)


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


class LigneFinancementInline(admin.TabularInline):
    model = LigneFinancement
    extra = 0
    fields = ["libelle", "code"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["nom", "sigle", "type", "siret", "rna", "ville"]
    list_filter = ["type"]
    search_fields = ["nom", "sigle", "siret", "rna", "ville"]
    inlines = [ContactInline, LigneFinancementInline]


@admin.register(LigneFinancement)
class LigneFinancementAdmin(admin.ModelAdmin):
    list_display = ["libelle", "financeur", "code"]
    list_filter = ["financeur"]
    search_fields = ["libelle", "code", "financeur__nom"]
    autocomplete_fields = ["financeur"]


class NoeudInline(admin.TabularInline):
    model = NoeudStrategie
    fields = ["code", "libelle", "niveau", "parent", "ordre"]
    extra = 0


@admin.register(ContratDeVille)
class ContratAdmin(admin.ModelAdmin):
    list_display = ["nom", "annee_debut", "annee_fin", "statut", "date_signature"]
    list_filter = ["statut"]
    search_fields = ["nom"]
    filter_horizontal = ["signataires"]
    inlines = [NoeudInline]


@admin.register(NoeudStrategie)
class NoeudAdmin(admin.ModelAdmin):
    list_display = ["__str__", "niveau", "contrat", "parent", "ordre"]
    list_filter = ["contrat", "niveau"]
    search_fields = ["libelle", "code"]
    list_select_related = ["contrat", "parent"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["nom"]


@admin.register(ProgrammeActions)
class ProgrammeAdmin(SimpleHistoryAdmin):
    list_display = ["nom", "contrat", "type", "annee_debut", "annee_fin", "secteur", "statut"]
    list_filter = ["contrat", "statut", "type", "secteur"]
    search_fields = ["nom"]
    list_select_related = ["contrat", "secteur"]
    filter_horizontal = ["communes"]


class FinancementInline(admin.TabularInline):
    model = Financement
    extra = 0
    autocomplete_fields = ["financeur"]
    # The sum of the line's payments (cvu.payments), recorded on the dossier page.
    readonly_fields = ["montant_verse"]


class IndicateurInline(admin.TabularInline):
    model = IndicateurAction
    extra = 0


@admin.register(Action)
class ActionAdmin(SimpleHistoryAdmin):
    list_display = ["titre", "annee", "porteur", "statut", "numero_dauphin", "referent"]
    list_filter = ["contrat", "annee", "statut", "tags"]
    search_fields = ["titre", "numero_dauphin", "porteur__nom"]
    list_select_related = ["porteur", "referent"]
    autocomplete_fields = ["porteur"]
    filter_horizontal = ["qpvs", "objectifs", "tags"]
    inlines = [FinancementInline, IndicateurInline]


@admin.register(Financement)
class FinancementAdmin(SimpleHistoryAdmin):
    list_display = [
        "action",
        "financeur",
        "annee",
        "montant_demande",
        "montant_vote",
        "montant_verse",
    ]
    readonly_fields = ["montant_verse"]
    list_filter = ["annee", "financeur__type"]
    search_fields = ["action__titre", "financeur__nom"]
    list_select_related = ["action", "financeur"]
    autocomplete_fields = ["financeur"]
    raw_id_fields = ["action"]


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["nom", "action", "content_type", "taille", "uploaded_by", "uploaded_at"]
    search_fields = ["nom", "action__titre"]
    list_select_related = ["action", "uploaded_by"]
    raw_id_fields = ["action"]


@admin.register(TypeInstance)
class TypeInstanceAdmin(admin.ModelAdmin):
    list_display = ["nom", "pilotage", "ordre"]
    list_editable = ["pilotage", "ordre"]
    search_fields = ["nom"]


@admin.register(Instance)
class InstanceAdmin(admin.ModelAdmin):
    list_display = ["nom", "type", "echelle", "organisateur", "active"]
    list_filter = ["type", "echelle", "active"]
    search_fields = ["nom"]
    list_select_related = ["type", "organisateur"]
    filter_horizontal = ["communes", "organisations_membres", "contacts_membres"]


class ElementPlanActionInline(admin.TabularInline):
    model = ElementPlanAction
    extra = 0


@admin.register(DispositifConnexe)
class DispositifAdmin(admin.ModelAdmin):
    list_display = ["nom", "type", "mode"]
    list_filter = ["type", "mode"]
    search_fields = ["nom"]
    filter_horizontal = ["communes", "qpvs"]
    inlines = [ElementPlanActionInline]


class PointInline(admin.TabularInline):
    model = PointOrdreDuJour
    extra = 0
    raw_id_fields = ["action", "programme"]


class DecisionInline(admin.TabularInline):
    model = Decision
    extra = 0
    raw_id_fields = ["action", "programme"]


@admin.register(Reunion)
class ReunionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "instance", "debut", "statut", "lieu"]
    list_filter = ["statut", "instance__type"]
    search_fields = ["titre", "instance__nom", "lieu"]
    list_select_related = ["instance"]
    date_hierarchy = "debut"
    filter_horizontal = ["invites_utilisateurs", "invites_contacts"]
    inlines = [PointInline, DecisionInline]


@admin.register(SuiteADonner)
class SuiteAdmin(admin.ModelAdmin):
    list_display = ["quoi", "responsable", "responsable_contact", "echeance", "statut"]
    list_filter = ["statut"]
    search_fields = ["quoi"]
    list_select_related = ["responsable", "responsable_contact"]
    raw_id_fields = ["reunion", "decision", "responsable_contact"]


@admin.register(ActionTFPB)
class ActionTFPBAdmin(admin.ModelAdmin):
    list_display = [
        "libelle",
        "annee",
        "bailleur",
        "qpv",
        "axe",
        "montant_prevu",
        "montant_realise",
    ]
    list_filter = ["annee", "axe", "bailleur"]
    list_select_related = ["bailleur", "qpv"]


@admin.register(PosteAdulteRelais)
class PosteAdulteRelaisAdmin(admin.ModelAdmin):
    list_display = ["mission", "employeur", "qpv", "convention_fin", "renouvellement"]
    list_filter = ["renouvellement"]
    list_select_related = ["employeur", "qpv"]


@admin.register(EvaluationMiParcours)
class EvaluationMiParcoursAdmin(SimpleHistoryAdmin):
    list_display = ["contrat", "annee", "adoptee_le"]
    raw_id_fields = ["reunion"]


@admin.register(EngagementSignataire)
class EngagementAdmin(SimpleHistoryAdmin):
    list_display = ["signataire", "texte", "statut", "date_revue"]
    list_filter = ["statut", "contrat", "signataire"]
    search_fields = ["texte", "commentaire"]
    list_select_related = ["signataire"]
    raw_id_fields = ["objectif", "indicateur", "revue_en"]


class PrioriteInline(admin.TabularInline):
    model = PrioriteQuartier
    extra = 0
    raw_id_fields = ["objectif"]


@admin.register(ProjetQuartier)
class ProjetQuartierAdmin(SimpleHistoryAdmin):
    list_display = ["qpv", "contrat", "updated_at"]
    list_filter = ["contrat"]
    inlines = [PrioriteInline]


@admin.register(PropositionReorientation)
class PropositionAdmin(SimpleHistoryAdmin):
    list_display = ["objet", "auteur", "created_at", "issue"]
    list_filter = ["issue", "contrat"]
    search_fields = ["objet", "motifs"]
    list_select_related = ["auteur"]
    raw_id_fields = ["point", "decision", "objectif", "observations", "indicateurs", "actions"]
    readonly_fields = ["decidee_par"]


# ---------------------------------------------------------------- calls for projects


class EnveloppeInline(admin.TabularInline):
    model = Enveloppe
    extra = 0
    autocomplete_fields = ["financeur"]
    fields = ["financeur", "ligne", "montant"]


@admin.register(AppelAProjets)
class AppelAProjetsAdmin(SimpleHistoryAdmin):
    list_display = ["nom", "contrat", "annee", "statut", "date_ouverture", "date_cloture"]
    list_filter = ["statut", "contrat"]
    search_fields = ["nom"]
    filter_horizontal = ["orientations"]
    inlines = [EnveloppeInline]


@admin.register(Comite)
class ComiteAdmin(admin.ModelAdmin):
    list_display = ["__str__", "date", "lieu"]
    list_filter = ["appel"]
    raw_id_fields = ["dossiers", "reunion"]


@admin.register(TransitionStatut)
class TransitionStatutAdmin(admin.ModelAdmin):
    """The cycle's history is kept as it happened: read only."""

    list_display = ["action", "de", "vers", "par", "le", "derogation"]
    list_filter = ["vers", "derogation"]
    search_fields = ["action__titre", "action__numero_dauphin"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Instruction)
class InstructionAdmin(SimpleHistoryAdmin):
    list_display = ["action", "avis", "instruit_par", "updated_at"]
    list_filter = ["avis"]
    search_fields = ["action__titre"]
    raw_id_fields = ["action"]


@admin.register(Bilan)
class BilanAdmin(SimpleHistoryAdmin):
    list_display = ["action", "exercice", "recu_le", "cout_realise"]
    list_filter = ["exercice"]
    search_fields = ["action__titre"]
    raw_id_fields = ["action", "cerfa"]


@admin.register(FicheIntention)
class FicheIntentionAdmin(SimpleHistoryAdmin):
    list_display = ["titre", "porteur", "appel", "orientation", "auteur", "created_at"]
    list_filter = ["orientation", "appel"]
    search_fields = ["titre", "porteur__nom"]
    raw_id_fields = ["porteur", "action", "financeurs_envisages"]


@admin.register(Echange)
class EchangeAdmin(admin.ModelAdmin):
    list_display = ["organisation", "date", "mode", "agent", "date_prochaine_etape", "etape_faite"]
    list_filter = ["mode", "etape_faite"]
    search_fields = ["organisation__nom"]
    raw_id_fields = ["organisation", "intention"]


@admin.register(PieceOrganisation)
class PieceOrganisationAdmin(admin.ModelAdmin):
    list_display = ["organisation", "type", "date_piece", "date_expiration", "uploaded_at"]
    list_filter = ["type"]
    search_fields = ["organisation__nom", "nom"]
    raw_id_fields = ["organisation"]


@admin.register(ModeleConvention)
class ModeleConventionAdmin(SimpleHistoryAdmin):
    list_display = ["nom", "type", "actif"]
    list_filter = ["type", "actif"]


@admin.register(Convention)
class ConventionAdmin(SimpleHistoryAdmin):
    list_display = ["action", "numero", "annee_debut", "annee_fin", "montant"]
    search_fields = ["action__titre", "numero"]
    raw_id_fields = ["action", "document", "document_signe"]


class PaymentsReadOnly:
    """Payments and clawbacks are read here and written on the dossier page, where
    cvu.payments checks them against the voted amount and keeps the line's paid total."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Versement)
class VersementAdmin(PaymentsReadOnly, SimpleHistoryAdmin):
    list_display = [
        "financement",
        "nature",
        "montant",
        "date_prevue",
        "date_versement",
        "numero_mandat",
    ]
    list_filter = ["nature"]
    search_fields = ["numero_mandat", "financement__action__titre"]
    raw_id_fields = ["financement"]


@admin.register(Reversement)
class ReversementAdmin(PaymentsReadOnly, SimpleHistoryAdmin):
    list_display = ["financement", "montant", "date_demande", "statut", "numero_titre"]
    list_filter = ["statut"]
    raw_id_fields = ["financement"]


class ValeurResultatInline(admin.TabularInline):
    model = ValeurResultat
    extra = 0


@admin.register(IndicateurResultat)
class IndicateurResultatAdmin(admin.ModelAdmin):
    list_display = ["libelle", "objectif", "valeur_reference", "cible", "frequence"]
    list_filter = ["frequence", "objectif__contrat"]
    search_fields = ["libelle", "objectif__libelle"]
    raw_id_fields = ["objectif"]
    inlines = [ValeurResultatInline]
