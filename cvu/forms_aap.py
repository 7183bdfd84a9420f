"""Forms of the call-for-projects cycle."""

import hashlib
from decimal import Decimal

from django import forms
from django.conf import settings
from django.db.models import Q
from django.forms import inlineformset_factory, modelformset_factory

from core.forms import CompactRowForm, MontantField, QuickField
from core.widgets import CheckboxFilterList

from . import aap, dauphin
from .forms import funder_choices
from .models import (
    Action,
    AppelAProjets,
    AvisFinanceur,
    BeneficiairesQpv,
    Bilan,
    Comite,
    ContratDeVille,
    DecisionComite,
    Enveloppe,
    Financement,
    IndicateurAction,
    Instruction,
    NoeudStrategie,
    Reunion,
)
from .models.aap import BENEFICIAIRES, CRITERES

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AppelForm(forms.ModelForm):
    class Meta:
        model = AppelAProjets
        fields = [
            "nom",
            "contrat",
            "annee",
            "date_ouverture",
            "date_cloture",
            "statut",
            "orientations",
            "conditions",
            "signataire",
            "courrier_notification",
        ]
        widgets = {
            "date_ouverture": DATE,
            "date_cloture": DATE,
            "orientations": CheckboxFilterList(),
            "conditions": forms.Textarea(attrs={"rows": 3}),
            "courrier_notification": forms.Textarea(attrs={"rows": 12}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contrat"].queryset = ContratDeVille.objects.all()
        self.fields["orientations"].queryset = NoeudStrategie.objects.exclude(
            niveau=NoeudStrategie.Niveau.AXE
        ).select_related("contrat")
        self.fields["orientations"].label_from_instance = lambda node: (
            f"{node.contrat.annee_debut} · {node}"
        )

    def clean(self):
        cleaned = super().clean()
        contrat = cleaned.get("contrat")
        if contrat and any(o.contrat_id != contrat.pk for o in cleaned.get("orientations") or []):
            self.add_error("orientations", "Choisissez des orientations du contrat de l'appel.")
        return cleaned


class EnveloppeForm(CompactRowForm, forms.ModelForm):
    montant = MontantField(label="Montant (€)")

    class Meta:
        model = Enveloppe
        fields = ["financeur", "ligne", "montant"]


class BaseEnveloppeFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """One envelope per funder and funding line (the database's conditional constraints are
        not checked between the rows of a formset)."""
        super().clean()
        seen = set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", {})
            if not data or data.get("DELETE") or not data.get("financeur"):
                continue
            key = (data["financeur"], data.get("ligne"))
            if key in seen:
                form.add_error(
                    "ligne" if data.get("ligne") else "financeur",
                    "Ce financeur a déjà une enveloppe sur cette ligne pour cet appel."
                    if data.get("ligne")
                    else "Ce financeur a déjà une enveloppe pour cet appel.",
                )
            seen.add(key)


EnveloppeFormSet = inlineformset_factory(
    AppelAProjets,
    Enveloppe,
    form=EnveloppeForm,
    formset=BaseEnveloppeFormSet,
    extra=3,
    can_delete=True,
)


def with_funders(formset_class, *args, **kwargs):
    """A formset whose rows choose a funder, the funders' list computed once for all rows."""
    return formset_class(
        *args,
        form_kwargs={"choices": funder_choices(formset_class.form)},
        **kwargs,
    )


# ---------------------------------------------------------------- Dauphin import


class DauphinUploadForm(forms.Form):
    fichier = forms.FileField(
        label="Export Dauphin (.xlsx ou .csv)",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_fichier(self):
        upload = self.cleaned_data["fichier"]
        dauphin.check_name(upload.name)
        limit = settings.IMPORT_MAX_SIZE
        if upload.size > limit:
            raise forms.ValidationError(
                f"Le fichier pèse {upload.size / 1_000_000:.1f} Mo : la limite est de "
                f"{limit / 1_000_000:.0f} Mo."
            )
        self.content = upload.read()
        self.table = dauphin.read_table(self.content)
        return upload


class MappingForm(forms.Form):
    """Which column of the file holds what; guessed from the headers, corrected by the user."""

    def __init__(self, *args, headers, funders, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— aucune —")] + [
            (str(i), h or f"colonne {i + 1}") for i, h in enumerate(headers)
        ]
        for key, (label, required, _) in dauphin.FIELDS.items():
            self.fields[key] = forms.TypedChoiceField(
                label=label,
                choices=choices,
                required=required,
                coerce=int,
                empty_value=None,
                help_text=dauphin.HELP.get(key, ""),
            )
        for funder in funders:
            self.fields[f"financeur_{funder.pk}"] = forms.TypedChoiceField(
                label=f"Montant demandé à {funder}",
                choices=choices,
                required=False,
                coerce=int,
                empty_value=None,
            )
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"

    def mapping(self) -> dict:
        return dict(self.cleaned_data)


# ---------------------------------------------------------------- instruction


class InstructionForm(CompactRowForm, forms.ModelForm):
    class Meta:
        model = Instruction
        fields = [name for key, _ in CRITERES for name in (f"{key}_note", f"{key}_commentaire")] + [
            "avis",
            "synthese",
        ]
        widgets = {
            **{f"{key}_commentaire": forms.Textarea(attrs={"rows": 2}) for key, _ in CRITERES},
            **{f"{key}_note": forms.NumberInput(attrs={"min": 0, "max": 3}) for key, _ in CRITERES},
            "synthese": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.pop("aria-label", None)  # the grid labels the notes
        for key, label in CRITERES:
            self.fields[f"{key}_commentaire"].widget.attrs["aria-label"] = f"Commentaire : {label}"

    def rows(self):
        """The grid as (label, note field, comment field) for the template."""
        return [(label, self[f"{key}_note"], self[f"{key}_commentaire"]) for key, label in CRITERES]


class AvisFinanceurForm(CompactRowForm, forms.ModelForm):
    class Meta:
        model = AvisFinanceur
        fields = ["financeur", "avis", "commentaire"]
        widgets = {"commentaire": forms.TextInput}


AvisFinanceurFormSet = inlineformset_factory(
    Action, AvisFinanceur, form=AvisFinanceurForm, extra=2, can_delete=True
)


class ProposeForm(CompactRowForm, forms.ModelForm):
    montant_propose = MontantField(label="Proposé (€)", required=False)

    class Meta:
        model = Financement
        fields = ["montant_propose"]


ProposeFormSet = modelformset_factory(Financement, form=ProposeForm, extra=0)


# ---------------------------------------------------------------- status


class TransitionForm(forms.Form):
    vers = forms.ChoiceField(label="Nouveau statut", choices=Action.Statut.choices)
    motif = forms.CharField(
        label="Motif",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Obligatoire pour une réouverture ou une dérogation.",
    )


# ---------------------------------------------------------------- committee


class ComiteForm(forms.ModelForm):
    class Meta:
        model = Comite
        fields = ["date", "lieu", "reunion", "dossiers", "notes"]
        widgets = {
            "date": DATE,
            "dossiers": CheckboxFilterList(),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, appel: AppelAProjets, **kwargs):
        super().__init__(*args, **kwargs)
        # The dossiers a committee may still decide, and those already on its agenda.
        on_agenda = Q(pk__in=self.instance.dossiers.all()) if self.instance.pk else Q(pk=None)
        self.fields["dossiers"].queryset = (
            appel.dossiers.filter(
                Q(statut__in=[*aap.WAITING_INSTRUCTION, *aap.COMMITTEE_OPEN]) | on_agenda
            )
            .select_related("porteur")
            .order_by("titre")
        )
        self.fields["dossiers"].label_from_instance = lambda a: (
            f"{a.titre} – {a.porteur} ({a.get_statut_display()})"
        )
        self.fields["reunion"].queryset = Reunion.objects.select_related("instance").order_by(
            "-debut"
        )[:200]
        self.fields["reunion"].required = False


# Decided already (by an earlier committee or on the dossier's page): not "à décider".
NOT_PENDING = {Action.Statut.PROGRAMME, Action.Statut.REFUSE}


def _fingerprint(sens, commentaire, derogation, votes) -> str:
    """A short digest of one committee row, to tell the rows a person changed from the others."""
    amounts = ";".join(
        f"{pk}={'' if amount is None else f'{Decimal(amount):.2f}'}"
        for pk, amount in sorted(votes.items())
    )
    text = "\x1f".join(
        [sens or "", (commentaire or "").strip(), (derogation or "").strip(), amounts]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def posted_row_changed(data, action) -> bool:
    """Did the person change this committee row, judging from the raw post alone (for a row
    that has no field any more because its dossier moved on meanwhile)?"""
    amount = MontantField(required=False)
    try:
        votes = {
            line.pk: amount.clean(data.get(f"vote_{line.pk}", "")) for line in action.lignes_appel
        }
    except forms.ValidationError:
        return True
    posted = _fingerprint(
        data.get(f"sens_{action.pk}", ""),
        data.get(f"commentaire_{action.pk}", ""),
        data.get(f"derogation_{action.pk}", ""),
        votes,
    )
    return posted != data.get(f"etat_{action.pk}")


class DecisionsForm(forms.Form):
    """The committee's decisions in bulk: per open dossier a decision and comment, per line a vote.

    Dossiers the committee can no longer decide (notified and beyond, or not yet instructed) get
    no field. Each row carries the fingerprint of what was loaded, so that saving records only
    the rows a person changed (`changed_rows`), whatever the other rows hold by then.
    """

    confirmer = forms.BooleanField(
        label="Je confirme le dépassement d'enveloppe signalé ci-dessus", required=False
    )

    def __init__(self, *args, dossiers, decisions: dict, late: set, **kwargs):
        super().__init__(*args, **kwargs)
        self.dossiers = dossiers
        self.open = [a for a in dossiers if not aap.committee_closed_reason(a)]
        self.late = late
        sens_choices = [("", "— à décider —"), *DecisionComite.Sens.choices]
        for action in self.open:
            decision = decisions.get(action.pk)
            current = action.statut if action.statut in NOT_PENDING else ""
            initial_votes = {
                line.pk: line.montant_vote
                if line.montant_vote is not None
                else line.montant_propose
                for line in action.lignes_appel
            }
            initial = {
                "sens": decision.sens if decision else current,
                "commentaire": decision.commentaire if decision else "",
            }
            self.fields[f"sens_{action.pk}"] = forms.ChoiceField(
                label="Décision",
                choices=sens_choices,
                required=False,
                initial=initial["sens"],
            )
            self.fields[f"commentaire_{action.pk}"] = forms.CharField(
                label="Commentaire", required=False, initial=initial["commentaire"]
            )
            self.fields[f"etat_{action.pk}"] = forms.CharField(
                required=False,
                widget=forms.HiddenInput,
                initial=_fingerprint(initial["sens"], initial["commentaire"], "", initial_votes),
            )
            if action.pk in late:
                self.fields[f"derogation_{action.pk}"] = forms.CharField(
                    label="Motif de dérogation (bilan en retard)", required=False
                )
            for line in action.lignes_appel:
                field = MontantField(
                    label=f"Voté {line.financeur}", required=False, initial=initial_votes[line.pk]
                )
                # Read by static/js/comite.js to update the envelopes while typing.
                field.widget.attrs.update(
                    {
                        "data-vote-input": "",
                        "data-financeur": f"{line.financeur_id}-{line.ligne_id or ''}",
                        "data-saved": str(line.montant_vote or 0),
                        "data-refused": "1" if action.statut == "refuse" else "",
                        "aria-label": f"Voté par {line.financeur} – {action.titre}",
                    }
                )
                self.fields[f"vote_{line.pk}"] = field
            self.fields[f"sens_{action.pk}"].widget.attrs["aria-label"] = (
                f"Décision – {action.titre}"
            )
            self.fields[f"commentaire_{action.pk}"].widget.attrs.update(
                {"aria-label": f"Commentaire – {action.titre}", "placeholder": "Commentaire"}
            )
        for name, field in self.fields.items():
            if name == "confirmer" or name.startswith("etat_"):
                continue
            css = (
                "form-select form-select-sm"
                if isinstance(field, forms.ChoiceField)
                else "form-control form-control-sm"
            )
            field.widget.attrs["class"] = css + (" text-end" if name.startswith("vote_") else "")
            field.widget.attrs.setdefault("aria-label", str(field.label))

    def rows(self):
        open_pks = {a.pk for a in self.open}

        def field(name):
            return QuickField(self[name])

        return [
            {
                "action": action,
                "closed": aap.committee_closed_reason(action),
                "sens": field(f"sens_{action.pk}") if action.pk in open_pks else None,
                "commentaire": field(f"commentaire_{action.pk}") if action.pk in open_pks else None,
                "etat": field(f"etat_{action.pk}") if action.pk in open_pks else None,
                "derogation": field(f"derogation_{action.pk}")
                if action.pk in open_pks and action.pk in self.late
                else None,
                "lignes": [
                    (line, field(f"vote_{line.pk}") if action.pk in open_pks else None)
                    for line in action.lignes_appel
                ],
            }
            for action in self.dossiers
        ]

    def _posted(self, action) -> tuple:
        data = self.cleaned_data
        return (
            data.get(f"sens_{action.pk}", ""),
            data.get(f"commentaire_{action.pk}", ""),
            data.get(f"derogation_{action.pk}", ""),
            {line.pk: data.get(f"vote_{line.pk}") for line in action.lignes_appel},
        )

    def _changed(self, action) -> bool:
        sens, commentaire, derogation, votes = self._posted(action)
        loaded = (
            self.cleaned_data.get(f"etat_{action.pk}") or self.fields[f"etat_{action.pk}"].initial
        )
        return _fingerprint(sens, commentaire, derogation, votes) != loaded

    def changed_rows(self) -> list[aap.LigneDecision]:
        """The rows whose decision, comment or amounts differ from what the page loaded (or,
        when the page sent no fingerprint, from what is stored)."""
        lignes = []
        for action in self.open:
            if not self._changed(action):
                continue
            sens, commentaire, derogation, votes = self._posted(action)
            lignes.append(
                aap.LigneDecision(
                    action=action,
                    sens=sens,
                    commentaire=commentaire,
                    derogation=derogation,
                    votes=votes,
                )
            )
        return lignes

    def clean(self):
        cleaned = super().clean()
        for action in self.open:
            sens = cleaned.get(f"sens_{action.pk}")
            if sens == DecisionComite.Sens.PROGRAMME and self._changed(action):
                votes = [cleaned.get(f"vote_{line.pk}") for line in action.lignes_appel]
                if not any(votes):
                    self.add_error(
                        f"sens_{action.pk}",
                        "Un dossier programmé reçoit au moins un montant voté.",
                    )
        return cleaned


# ---------------------------------------------------------------- bilan


class BilanForm(CompactRowForm, forms.ModelForm):
    cout_realise = MontantField(label="Coût total réalisé (€)")
    fichier = forms.FileField(
        label="Cerfa 15059 (PDF, Word, Excel…)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.docx,.doc,.odt,.xlsx,.xls,.ods"}),
    )

    class Meta:
        model = Bilan
        fields = ["recu_le", "rapport", "cout_realise", *BENEFICIAIRES]
        widgets = {
            "recu_le": DATE,
            "rapport": forms.Textarea(attrs={"rows": 6}),
            **{name: forms.NumberInput(attrs={"min": 0}) for name in BENEFICIAIRES},
        }

    def __init__(self, *args, lignes, qpvs=(), **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.pop("aria-label", None)  # each field has a visible <label>
        self.qpvs = list(qpvs)
        counted = {}
        if self.instance.pk:
            counted = {row.qpv_id: row.nombre for row in self.instance.par_qpv.all()}
        for qpv in self.qpvs:
            self.fields[f"qpv_{qpv.pk}"] = forms.IntegerField(
                label=f"dont {qpv.nom}",
                min_value=0,
                required=False,
                initial=counted.get(qpv.pk),
                widget=forms.NumberInput(attrs={"min": 0, "class": "form-control form-control-sm"}),
            )
        self.lignes = lignes
        existing = {}
        if self.instance.pk:
            existing = {r.financement_id: r.montant_realise for r in self.instance.lignes.all()}
        for line in lignes:
            field = MontantField(
                label=f"Utilisé – {line.financeur}", required=False, initial=existing.get(line.pk)
            )
            field.widget.attrs.update(
                {"class": "form-control form-control-sm text-end", "aria-label": field.label}
            )
            self.fields[f"realise_{line.pk}"] = field

    def clean_fichier(self):
        from .services import check_upload

        upload = self.cleaned_data.get("fichier")
        if upload:
            self.content_type = check_upload(upload, max_size=settings.DOCUMENT_MAX_SIZE)
        return upload

    def clean(self):
        """The QPVs' counts are parts of the QPV residents, who must then be given."""
        cleaned = super().clean()
        counts = [cleaned.get(f"qpv_{qpv.pk}") for qpv in self.qpvs]
        total = sum(n for n in counts if n is not None)
        if any(n is not None for n in counts):
            residents = cleaned.get("beneficiaires_qpv")
            if residents is None and "beneficiaires_qpv" not in self.errors:
                self.add_error(
                    "beneficiaires_qpv",
                    "Indiquez le nombre d'habitants des QPV, dont les quartiers sont le détail.",
                )
            elif residents is not None and total > residents:
                self.add_error(
                    f"qpv_{self.qpvs[-1].pk}",
                    f"Les habitants comptés par QPV ({total}) dépassent les habitants des QPV "
                    f"({residents}).",
                )
        return cleaned

    def save_par_qpv(self, bilan):
        """Writes the counts by QPV of a saved bilan: a blank count removes the row."""
        for qpv in self.qpvs:
            nombre = self.cleaned_data.get(f"qpv_{qpv.pk}")
            if nombre is None:
                BeneficiairesQpv.objects.filter(bilan=bilan, qpv=qpv).delete()
            else:
                BeneficiairesQpv.objects.update_or_create(
                    bilan=bilan, qpv=qpv, defaults={"nombre": nombre}
                )

    def rows(self):
        return [(line, self[f"realise_{line.pk}"]) for line in self.lignes]

    def beneficiaires_fields(self):
        return [self[name] for name in BENEFICIAIRES]

    def qpv_fields(self):
        return [self[f"qpv_{qpv.pk}"] for qpv in self.qpvs]


class IndicateurRealiseForm(CompactRowForm, forms.ModelForm):
    class Meta:
        model = IndicateurAction
        fields = ["realise"]


IndicateurRealiseFormSet = modelformset_factory(
    IndicateurAction, form=IndicateurRealiseForm, extra=0
)
