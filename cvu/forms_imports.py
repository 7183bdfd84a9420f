"""The mapping step of the action import: what each column of the file holds."""

from django import forms

from core import imports as core_imports
from quartiers.models import YEAR_MAX, YEAR_MIN

from . import imports
from .models import ContratDeVille

IGNORED = ""


class ActionMappingForm(forms.Form):
    """One choice per column of the file, guessed from its header; the contract and the year
    may be set once for the whole file instead of a column."""

    contrat = forms.ModelChoiceField(
        ContratDeVille.objects.all(),
        required=False,
        label="Contrat de toutes les lignes",
        empty_label="— lu dans une colonne du fichier —",
        help_text="Pour un fichier sans colonne « Contrat ».",
    )
    exercice = forms.IntegerField(
        required=False,
        min_value=YEAR_MIN,
        max_value=YEAR_MAX,
        label="Exercice de toutes les lignes",
        help_text="Pour un fichier sans colonne « Exercice » (par exemple 2026).",
    )

    def __init__(self, *args, table: core_imports.Table, funders, initial_mapping=None, **kwargs):
        initial = kwargs.pop("initial", {}) or {}
        if initial_mapping is not None:
            initial = {
                **initial,
                **{f"col_{i}": target for i, target in initial_mapping.columns.items()},
            }
        super().__init__(*args, initial=initial, **kwargs)
        self.table = table
        if len(table.sheet_names) > 1:
            self.fields["feuille"] = forms.ChoiceField(
                label="Feuille du classeur à lire",
                choices=[(name, name) for name in table.sheet_names],
                initial=table.sheet,
                help_text="Changer de feuille relit le fichier et devine à nouveau les colonnes.",
            )
            self.fields["feuille"].widget.attrs["class"] = "form-select form-select-sm"
        choices = [
            (IGNORED, "— ignorée —"),
            ("Colonne de l'action", [(c.key, c.header) for c in imports.COLUMNS]),
            *(
                (label + " à…", [(f"{kind}:{f.pk}", str(f)) for f in funders])
                for kind, label in imports.FUNDER_KINDS.items()
            ),
        ]
        self.column_fields = []
        for index, header in enumerate(table.headers):
            name = f"col_{index}"
            title = header or f"colonne {index + 1}"
            self.fields[name] = forms.ChoiceField(
                label=f"Contenu de la colonne « {title} »", choices=choices, required=False
            )
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"
            samples = [
                core_imports.text_of(value)
                for value in table.column(index)
                if core_imports.text_of(value)
            ][:2]
            self.column_fields.append((title, ", ".join(samples), self[name]))

    def clean(self):
        cleaned = super().clean()
        columns = {
            index: cleaned.get(f"col_{index}")
            for index in range(len(self.table.headers))
            if cleaned.get(f"col_{index}")
        }
        seen: dict[str, list[int]] = {}
        for index, target in columns.items():
            seen.setdefault(target, []).append(index)
        for indexes in seen.values():
            if len(indexes) > 1:
                names = " et ".join(f"« {self.table.headers[i]} »" for i in indexes)
                self.add_error(None, f"Les colonnes {names} sont lues comme la même donnée.")
        mapping = imports.ColumnMapping(
            columns, contrat=cleaned.get("contrat"), exercice=cleaned.get("exercice")
        )
        for header in mapping.missing():
            self.add_error(
                None,
                f"Indiquez la colonne qui donne « {header} »"
                + (
                    " ou choisissez-le pour toutes les lignes."
                    if header in ("Contrat", "Exercice")
                    else "."
                ),
            )
        if "contrat" in columns.values() and mapping.contrat is not None:
            self.add_error("contrat", "Le fichier a déjà une colonne « Contrat ».")
        if "exercice" in columns.values() and mapping.exercice is not None:
            self.add_error("exercice", "Le fichier a déjà une colonne « Exercice ».")
        self.mapping = mapping
        return cleaned
