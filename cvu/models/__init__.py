from .actions import Action, Document, Financement, IndicateurAction, ProgrammeActions
from .contrats import ContratDeVille, NoeudStrategie, Tag
from .instances import (
    Decision,
    DispositifConnexe,
    ElementPlanAction,
    Instance,
    ModeImplication,
    PointOrdreDuJour,
    Presence,
    Reunion,
    SuiteADonner,
    TypeInstance,
)
from .organisations import Contact, Organisation

__all__ = [
    "Action",
    "Decision",
    "DispositifConnexe",
    "ElementPlanAction",
    "Instance",
    "ModeImplication",
    "PointOrdreDuJour",
    "Presence",
    "Reunion",
    "SuiteADonner",
    "TypeInstance",
    "Contact",
    "ContratDeVille",
    "Document",
    "Financement",
    "IndicateurAction",
    "NoeudStrategie",
    "Organisation",
    "ProgrammeActions",
    "Tag",
]
