from .actions import Action, Document, Financement, IndicateurAction, ProgrammeActions
from .contrats import ContratDeVille, NoeudStrategie, Tag
from .organisations import Contact, Organisation

__all__ = [
    "Action",
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
