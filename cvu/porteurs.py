"""Porteurs a file names and the application does not know: listed "à créer" in the preview of
an import (actions, Dauphin dossiers), ticked by default, created in the confirmation's
transaction. One piece for both imports."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from core.imports import normalise

from . import rights
from .models import Organisation


@dataclass
class NewPorteur:
    key: str
    nom: str
    siret: str
    organisation: Organisation  # unsaved until confirmation
    lines: list[int] = field(default_factory=list)
    ticked: bool = True  # the person left "créer" ticked

    @property
    def type_label(self) -> str:
        return self.organisation.get_type_display()


class PorteursToCreate:
    """Collects the unknown porteurs of one preview. `create` holds the keys the person left
    ticked (None: the first preview, where all are ticked)."""

    def __init__(self, user, create: set[str] | None = None):
        self.allowed = rights.may_create(user, Organisation)
        self.create = create
        self.items: dict[str, NewPorteur] = {}

    @property
    def ticked(self) -> list[NewPorteur]:
        return [new for new in self.items.values() if new.ticked]

    def propose(self, name: str, siret: str, *, line: int, errors: list[str]):
        """The organisation to create for this line (unsaved), or None with the reason."""
        if not self.allowed:
            errors.append(f"porteur inconnu « {name} » : demandez sa création dans Organisations")
            return None
        key = f"{normalise(name)}|{siret}"
        new = self.items.get(key)
        if new is None:
            associative = normalise(name).startswith(("association", "asso "))
            organisation = Organisation(
                nom=name[:200],
                siret=siret,
                type=Organisation.Type.ASSOCIATION if associative else Organisation.Type.AUTRE,
            )
            try:
                organisation.full_clean()
            except ValidationError as error:
                errors.extend(
                    f"porteur à créer « {name} » : {message}" for message in error.messages
                )
                return None
            new = NewPorteur(
                key=key,
                nom=name,
                siret=siret,
                organisation=organisation,
                ticked=self.create is None or key in self.create,
            )
            self.items[key] = new
        if line not in new.lines:
            new.lines.append(line)
        if not new.ticked:
            errors.append(
                f"porteur inconnu « {name} » : cochez « créer » dans la liste des porteurs à "
                "créer, ou créez-le d'abord dans Organisations"
            )
            return None
        return new.organisation

    def save(self) -> None:
        """Creates the ticked porteurs (inside the caller's transaction)."""
        for new in self.ticked:
            new.organisation.full_clean()
            new.organisation.save()
