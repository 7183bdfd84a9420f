"""Territory workflows: loading the reference data, writing the diagnosis."""

import csv
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from core.templatetags.formats import nombre

from .models import Commune, Indicateur, Observation, Qpv, ValeurIndicateur

DATA_DIR = Path(__file__).resolve().parent / "data"


class TerritoireFileError(Exception):
    """A reference file is malformed; the message names the file and the line."""


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, created: bool, changed: bool) -> None:
        if created:
            self.created[kind] = self.created.get(kind, 0) + 1
        elif changed:
            self.updated[kind] = self.updated.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _read_csv(path: Path, required: list[str]) -> list[tuple[int, dict]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [name for name in required if name not in (reader.fieldnames or [])]
            if missing:
                raise TerritoireFileError(
                    f"{path.name}, ligne 1 : colonne(s) manquante(s) : {', '.join(missing)}."
                )
            rows = []
            for row in reader:
                if None in row or any(value is None for value in row.values()):
                    raise TerritoireFileError(
                        f"{path.name}, ligne {reader.line_num} : nombre de colonnes incorrect."
                    )
                rows.append((reader.line_num, {k: v.strip() for k, v in row.items()}))
            return rows
    except FileNotFoundError:
        raise TerritoireFileError(f"{path.name} : fichier introuvable ({path}).") from None
    except UnicodeDecodeError:
        raise TerritoireFileError(f"{path.name} : le fichier n'est pas encodé en UTF-8.") from None


def _int_or_none(value: str, *, where: str, label: str) -> int | None:
    if value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise TerritoireFileError(
            f"{where} : {label} « {value} » n'est pas un nombre entier."
        ) from None


def _validated(instance, *, where: str, exclude=None):
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        details = "; ".join(
            f"{name} : {' '.join(messages)}" for name, messages in error.message_dict.items()
        )
        raise TerritoireFileError(f"{where} : {details}") from None
    return instance


def _apply(model, lookup: dict, values: dict, report: LoadReport, kind: str, *, on_create=None):
    """update_or_create that writes only what differs, so a reload changes nothing.

    An empty value in the file never erases what an administrator entered, and on_create
    fields (a QPV's name, which administrators may correct) are only set on creation.
    """
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        instance = model.objects.create(**lookup, **values, **(on_create or {}))
        report.count(kind, created=True, changed=True)
        return instance, True
    changed = [
        name
        for name, value in values.items()
        if value not in (None, "") and getattr(instance, name) != value
    ]
    if changed:
        for name in changed:
            setattr(instance, name, values[name])
        instance.save(update_fields=changed)
        report.count(kind, created=False, changed=True)
    return instance, False


def _check_letter(where: str, qpv: Qpv, predecessors: list[str]) -> None:
    """A 2024 code's letter says what the QPV succeeds (décret n° 2024-806): N a new quartier
    succeeds none, M (modified) and I (unchanged) succeed at least one, I exactly one."""
    letter, names = qpv.lettre, ", ".join(f"« {name} »" for name in predecessors)
    if letter == "N" and predecessors:
        raise TerritoireFileError(
            f"{where} : le code {qpv.code} (lettre N, nouveau quartier) ne peut succéder à un QPV "
            f"de 2015 ; il succède pourtant à {names}."
        )
    if letter in ("M", "I") and not predecessors:
        raise TerritoireFileError(
            f"{where} : le code {qpv.code} (lettre {letter}, périmètre "
            f"{'modifié' if letter == 'M' else 'inchangé'}) succède à un QPV de 2015 : "
            "indiquez-le dans la colonne successor de ce QPV de 2015."
        )
    if letter == "I" and len(predecessors) > 1:
        raise TerritoireFileError(
            f"{where} : le code {qpv.code} (lettre I, périmètre inchangé) succède à un seul QPV "
            f"de 2015, pas à {names} (une fusion est un périmètre modifié, lettre M)."
        )


def territoire_load(*, data_dir: Path = DATA_DIR) -> LoadReport:
    """Loads communes, QPVs and indicator definitions; all or nothing, idempotent."""
    communes_rows = _read_csv(
        data_dir / "communes_pma.csv", ["insee_code", "name", "population", "population_year"]
    )
    qpv_rows = _read_csv(
        data_dir / "qpv_pma.csv",
        ["code", "name", "communes", "geography", "population", "population_year"],
    )
    indicateur_rows = _read_csv(data_dir / "indicateurs.csv", ["code", "label", "unit", "source"])

    # Validate every line before writing anything.
    communes = []
    seen_codes = set()
    for line, row in communes_rows:
        where = f"communes_pma.csv, ligne {line}"
        commune = Commune(
            code_insee=row["insee_code"],
            nom=row["name"],
            population=_int_or_none(row["population"], where=where, label="la population"),
            population_annee=_int_or_none(row["population_year"], where=where, label="l'année"),
        )
        _validated(commune, where=where, exclude=["secteur"])
        if commune.code_insee in seen_codes:
            raise TerritoireFileError(f"{where} : code INSEE {commune.code_insee} en double.")
        seen_codes.add(commune.code_insee)
        communes.append(commune)

    qpvs = []
    seen_qpvs: dict[str, int] = {}
    for line, row in qpv_rows:
        where = f"qpv_pma.csv, ligne {line}"
        qpv = Qpv(
            geographie=row["geography"],
            code=row["code"] or None,
            nom=row["name"],
            population=_int_or_none(row["population"], where=where, label="la population"),
            population_annee=_int_or_none(row["population_year"], where=where, label="l'année"),
            notes=row.get("notes", ""),
        )
        _validated(qpv, where=where)
        codes = row["communes"].replace("|", " ").replace(";", " ").split()
        if not codes:
            raise TerritoireFileError(f"{where} : aucune commune indiquée.")
        unknown = [code for code in codes if code not in seen_codes]
        if unknown:
            raise TerritoireFileError(
                f"{where} : commune(s) inconnue(s) dans communes_pma.csv : {', '.join(unknown)}."
            )
        key = qpv.reference_key
        if key in seen_qpvs:
            raise TerritoireFileError(
                f"{where} : le QPV « {qpv.nom} » ({qpv.geographie}) figure déjà ligne "
                f"{seen_qpvs[key]}."
            )
        seen_qpvs[key] = line
        # Several successors (a split) are separated by « ; » or « | ».
        successors = [
            name.strip() for name in row.get("successor", "").replace("|", ";").split(";")
        ]
        successors = [name for name in successors if name]
        if successors and qpv.geographie != Qpv.Geographie.G2015:
            raise TerritoireFileError(f"{where} : seul un QPV de 2015 a un successeur.")
        qpvs.append((where, qpv, codes, successors))

    indicateurs = []
    seen_indicateurs = set()
    for position, (line, row) in enumerate(indicateur_rows, start=1):
        where = f"indicateurs.csv, ligne {line}"
        if row["code"] in seen_indicateurs:
            raise TerritoireFileError(f"{where} : code d'indicateur « {row['code']} » en double.")
        seen_indicateurs.add(row["code"])
        indicateur = Indicateur(
            code=row["code"],
            libelle=row["label"],
            unite=row["unit"],
            source=row["source"],
            description=row.get("description", ""),
            ordre=position,
        )
        indicateurs.append(_validated(indicateur, where=where))

    report = LoadReport()
    with transaction.atomic():
        by_code = {}
        for commune in communes:
            by_code[commune.code_insee], _ = _apply(
                Commune,
                {"code_insee": commune.code_insee},
                {
                    "nom": commune.nom,
                    "population": commune.population,
                    "population_annee": commune.population_annee,
                },
                report,
                "communes",
            )
        saved_qpvs = {}
        new_qpvs = set()
        for _where, qpv, codes, _successor in qpvs:
            saved, created = _apply(
                Qpv,
                {"cle_referentiel": qpv.reference_key},
                {
                    "geographie": qpv.geographie,
                    "code": qpv.code,
                    "population": qpv.population,
                    "population_annee": qpv.population_annee,
                    "notes": qpv.notes,
                },
                report,
                "QPV",
                on_create={"nom": qpv.nom},
            )
            if created:
                new_qpvs.add(saved.pk)
            wanted = {by_code[code].pk for code in codes}
            if set(saved.communes.values_list("pk", flat=True)) != wanted:
                saved.communes.set(wanted)
                report.count("QPV", created=False, changed=not created)
            saved_qpvs[(qpv.geographie, qpv.nom)] = saved
        predecessors: dict[int, list[str]] = {}
        for where, qpv, _codes, successors in qpvs:
            targets = []
            for successor in successors:
                target = saved_qpvs.get((Qpv.Geographie.G2024, successor))
                if target is None:
                    raise TerritoireFileError(
                        f"{where} : successeur « {successor} » absent de la géographie 2024."
                    )
                targets.append(target)
                predecessors.setdefault(target.pk, []).append(qpv.nom)
            saved = saved_qpvs[(qpv.geographie, qpv.nom)]
            if set(saved.successeurs.values_list("pk", flat=True)) != {t.pk for t in targets}:
                saved.successeurs.set(targets)
                report.count("QPV", created=False, changed=saved.pk not in new_qpvs)
        for where, qpv, _codes, _successors in qpvs:
            saved = saved_qpvs[(qpv.geographie, qpv.nom)]  # with a code an admin may have set
            _check_letter(where, saved, predecessors.get(saved.pk, []))
        for indicateur in indicateurs:
            _apply(
                Indicateur,
                {"code": indicateur.code},
                {
                    "libelle": indicateur.libelle,
                    "unite": indicateur.unite,
                    "source": indicateur.source,
                    "description": indicateur.description,
                    "ordre": indicateur.ordre,
                },
                report,
                "indicateurs",
            )
    return report


def observation_save(*, observation: Observation, user) -> Observation:
    """Creates or updates an observation; the author is the first writer."""
    if observation.pk is None:
        observation.auteur = user
    observation.full_clean()
    observation.save()
    return observation


def observation_delete(*, observation: Observation) -> None:
    observation.delete()


def valeur_save(*, valeur: ValeurIndicateur, user) -> ValeurIndicateur:
    """Creates or updates an indicator value; a value typed by someone is no demo value."""
    if valeur.pk is None:
        valeur.created_by = user
    valeur.est_demo = False
    valeur.full_clean()
    valeur.save()
    return valeur


def valeur_delete(*, valeur: ValeurIndicateur) -> None:
    valeur.delete()


def indicator_series(valeurs) -> list[dict]:
    """Values grouped by indicator, years ascending, for the table and the chart."""
    series: OrderedDict[int, dict] = OrderedDict()
    for valeur in valeurs:
        entry = series.setdefault(
            valeur.indicateur_id, {"indicateur": valeur.indicateur, "valeurs": []}
        )
        entry["valeurs"].append(valeur)
    for entry in series.values():
        entry["resume"] = _summary(entry["indicateur"], entry["valeurs"])
    return list(series.values())


def _summary(indicateur, valeurs) -> str:
    """The chart in words (RGAA: nothing is said by a chart alone): first and last values,
    highest and lowest."""
    unit = f" {indicateur.unite}" if indicateur.unite else ""

    def said(valeur):
        return f"{nombre(valeur.valeur)}{unit} en {valeur.annee}"

    points = sorted((v for v in valeurs if v.valeur is not None), key=lambda v: v.annee)
    if not points:
        return f"{indicateur.libelle} : aucune valeur."
    if len(points) == 1:
        return f"{indicateur.libelle} : {said(points[0])}."
    high = max(points, key=lambda v: v.valeur)
    low = min(points, key=lambda v: v.valeur)
    return (
        f"{indicateur.libelle} : {said(points[0])}, {said(points[-1])} ; "
        f"plus haut {said(high)}, plus bas {said(low)}."
    )
