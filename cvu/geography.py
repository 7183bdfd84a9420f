"""Where a contract's dossiers may lie: the territory's communes and the QPVs of its geography.

The territory is what the database holds (the agglomeration's communes and their QPVs); a
contract works on one QPV geography, 2024's for a contract begun in 2024 or after, 2015's before.
Both imports (Dauphin list, actions) check their rows here.
"""

import re
from collections import defaultdict

from core.imports import CellError, normalise, text_of
from quartiers.models import Commune, Qpv

from .models import ContratDeVille

_LIST_SEPARATORS = re.compile(r"[;,]")


def split_names(value) -> list[str]:
    """'Chiffogne ; Petite-Hollande, QN02501M' -> the three names, trimmed, empty ones dropped."""
    return [part.strip() for part in _LIST_SEPARATORS.split(text_of(value)) if part.strip()]


class Territory:
    """The territory's QPVs and communes, loaded once, found by name or code.

    `qpv` and `commune` raise CellError with a French message for a name outside the territory,
    ambiguous, or (for a QPV) of another geography than the contract's."""

    def __init__(self, contrat: ContratDeVille | None):
        """Without a contract, only communes can be looked up."""
        self.contrat = contrat
        self.geographie = contrat.geographie if contrat else None
        self._qpvs: dict[str, list[Qpv]] = defaultdict(list)
        for qpv in Qpv.objects.prefetch_related("communes"):
            for name in {normalise(qpv.nom), normalise(qpv.code or "")} - {""}:
                self._qpvs[name].append(qpv)
        self._communes: dict[str, list[Commune]] = defaultdict(list)
        for commune in Commune.objects.all():
            for name in {normalise(commune.nom), normalise(commune.code_insee)}:
                self._communes[name].append(commune)

    def qpv(self, name: str) -> Qpv:
        found = self._qpvs.get(normalise(name), [])
        of_contract = [qpv for qpv in found if qpv.geographie == self.geographie]
        if len(of_contract) == 1:
            return of_contract[0]
        if of_contract:
            raise CellError(f"plusieurs QPV répondent à « {name} » : indiquez leur code officiel")
        if found:
            other = found[0].geographie
            raise CellError(
                f"le QPV « {name} » est de la géographie {other}, hors de la géographie "
                f"{self.geographie} du contrat « {self.contrat.nom} »"
            )
        raise CellError(f"QPV « {name} » hors du territoire (aucun QPV de ce nom ou de ce code)")

    def commune(self, name: str) -> Commune:
        found = self._communes.get(normalise(name), [])
        if len(found) == 1:
            return found[0]
        if found:
            raise CellError(f"plusieurs communes s'appellent « {name} » : indiquez le code INSEE")
        raise CellError(
            f"commune « {name} » hors du territoire (aucune commune de ce nom ou de ce code INSEE)"
        )

    def qpvs(self, value, errors: list[str], *, label: str = "QPV") -> list[Qpv]:
        """The QPVs a cell names (';' or ','), each error recorded against `label`."""
        return self._many(value, self.qpv, errors, label)

    def communes(self, value, errors: list[str], *, label: str = "Commune") -> list[Commune]:
        return self._many(value, self.commune, errors, label)

    @staticmethod
    def _many(value, find, errors, label) -> list:
        found = []
        for name in split_names(value):
            try:
                item = find(name)
            except CellError as error:
                errors.append(f"{label} : {error}")
                continue
            if item not in found:
                found.append(item)
        return found


def qpvs_outside(qpvs: list[Qpv], communes: list[Commune]) -> list[str]:
    """A French error per QPV lying in none of the given communes (none when no commune)."""
    if not communes:
        return []
    commune_ids = {commune.pk for commune in communes}
    names = ", ".join(commune.nom for commune in communes)
    return [
        f"le QPV « {qpv.nom} » n'est pas situé dans : {names}"
        for qpv in qpvs
        if not commune_ids & {commune.pk for commune in qpv.communes.all()}
    ]
