"""Browser forms for referrals and sections.

These forms only parse what a browser sends (text to numbers, dates, yes/no/not recorded). Every
clinical rule belongs to the API serializers (`cases.api.v1.serializers`): the parsed values are
handed to the same serializer the API uses and its errors are shown next to the fields, so the
browser and the API accept and refuse exactly the same input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, Final

from django import forms
from django.core.exceptions import ValidationError
from django.forms.formsets import BaseFormSet, formset_factory
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import serializers

from accounts.models import Board
from cases import vocabulary as v
from cases.api.v1.serializers import SECTION_SERIALIZERS, CaseCreateSerializer, LesionListField
from cases.models import Case, SectionBase
from cases.vocabulary import Discipline
from common.fields import CodeField, StrictBooleanField

NOT_RECORDED: Final = "— not recorded"

# Labels a clinician reads; any field not listed is its name in words.
LABELS: Final[dict[str, str]] = {
    "vertebrae_involved": "Vertebrae involved (count)",
    "extraspinal_bone_metastases": "Extraspinal bone metastases (foci)",
    "extraspinal_imaging_modality": "Extraspinal imaging",
    "visceral_organs": "Visceral metastases",
    "whole_spine_imaging_modality": "Whole-spine imaging",
    "whole_spine_imaging_at": "Whole-spine imaging date and time",
    "whole_spine_contrast": "Whole-spine imaging with contrast",
    "is_index": "Index lesion",
    "posterolateral": "Posterolateral involvement",
    "escc_grade": "ESCC grade (Bilsky)",
    "frankel": "Frankel grade",
    "asia": "ASIA impairment scale (optional)",
    "bladder_bowel_dysfunction": "Bladder or bowel dysfunction",
    "fit_for_surgery_reason": "Reason when not fit for surgery",
    "primary": "Primary tumour",
    "histology_detail": "Histology",
    "unknown_primary_workup_planned": "Unknown primary: work-up planned",
    "molecular_alterations": "Molecular (targetable) alterations",
    "primary_growth": "Primary growth (Tomita override)",
    "bollen_profile": "Bollen profile (override)",
    "visceral_removable": "Visceral metastases removable (Tokuhashi)",
    "visceral_treatable": "Visceral metastases treatable (Tomita)",
    "systemic_control": "Systemic disease control",
    "kps": "Karnofsky performance status (KPS)",
    "ecog": "ECOG performance status",
    "expected_survival_months": "Expected survival (months)",
    "albumin_g_dl": "Albumin (g/dL)",
    "dose_gy": "Dose (Gy)",
    "vas": "Pain VAS (0-10)",
    "night_or_rest_pain": "Night or rest pain",
    "analgesic_step": "Analgesic step (WHO ladder)",
    "corticosteroid_current": "Currently on corticosteroids",
    "corticosteroid_dose": "Corticosteroid drug and dose (mg per day)",
    "sins_pain": "SINS pain",
    "mrn": "Medical record number (MRN)",
    "referred_primary": "Primary tumour (as referred)",
    "goals": "Patient's stated goals and preferences",
}


# Help for the browser where the serializer's help speaks JSON.
HELP: Final[dict[str, str]] = {
    "visceral_organs": 'Tick "none" when there are none; leave every box empty when not recorded.',
}


def label_for(name: str) -> str:
    return LABELS.get(name) or name.replace("_", " ").capitalize()


# --- fields


class RecordedBooleanSelect(forms.NullBooleanSelect):
    """Yes / no / not recorded: an unanswered question is never "no" (spec 1.1)."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("unknown", NOT_RECORDED), ("true", "yes"), ("false", "no")]


class OrganListField(forms.MultipleChoiceField):
    """`visceral_organs`: ticking "none" records [] (no visceral metastases); ticking nothing
    leaves the list not recorded (null), which spec 4.1 keeps apart from none."""

    NONE: Final = "none"

    def __init__(self, *, choices: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(
            choices=[*choices, (self.NONE, "none (no visceral metastases)")],
            widget=forms.CheckboxSelectMultiple,
            **kwargs,
        )

    def clean(self, value: Any) -> list[str] | None:
        picked: list[str] = super().clean(value)
        if self.NONE in picked:
            if len(picked) > 1:
                raise ValidationError('Tick "none" or organs, not both.')
            return []
        return picked or None

    @classmethod
    def as_initial(cls, value: list[str] | None) -> list[str]:
        if value is None:
            return []
        return list(value) or [cls.NONE]


def _form_field(name: str, source: serializers.Field) -> forms.Field:  # type: ignore[type-arg]
    """The browser field for a serializer field: parsing only, no bounds (the serializer's)."""
    help_text = HELP.get(name, source.help_text or "")
    common: dict[str, Any] = {"label": label_for(name), "required": False, "help_text": help_text}
    if isinstance(source, StrictBooleanField):
        if source.allow_null:
            return forms.NullBooleanField(widget=RecordedBooleanSelect, **common)
        return forms.BooleanField(**common)
    if isinstance(source, CodeField):
        return forms.TypedChoiceField(
            choices=[("", NOT_RECORDED), *source.choices.items()], coerce=str, empty_value=None, **common
        )
    if isinstance(source, serializers.ChoiceField):
        # A row's level: blank only on an unused row; the serializer requires it otherwise.
        return forms.TypedChoiceField(
            choices=[("", "—"), *source.choices.items()], coerce=str, empty_value=None, **common
        )
    if isinstance(source, serializers.IntegerField):
        return forms.IntegerField(**common)
    if isinstance(source, serializers.DecimalField):
        return forms.DecimalField(**common)
    if isinstance(source, serializers.DateTimeField):
        widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
        return forms.DateTimeField(widget=widget, **common)
    if isinstance(source, serializers.DateField):
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    if isinstance(source, serializers.ListField) and isinstance(source.child, serializers.ChoiceField):
        return OrganListField(choices=list(source.child.choices.items()), **common)
    if isinstance(source, serializers.CharField):
        long_text = (source.max_length or 0) > 200
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 2}) if long_text else forms.TextInput, **common)
    raise TypeError(f"No browser field for serializer field {name!r} ({type(source).__name__}).")


def _initial(fields: Mapping[str, forms.Field], values: Mapping[str, Any]) -> dict[str, Any]:
    """Stored values in the shape the form fields render and compare."""
    return {
        name: OrganListField.as_initial(values.get(name)) if isinstance(f, OrganListField) else values.get(name)
        for name, f in fields.items()
    }


def display(form_field: forms.Field, value: Any) -> str:
    """A stored or parsed value as text, "not recorded" when absent."""
    if isinstance(form_field, OrganListField) and value == []:
        return "none"
    if value is None or value == "" or value == []:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    choices = dict(getattr(form_field, "choices", ()))
    if isinstance(value, list):
        return ", ".join(str(choices.get(item, item)) for item in value)
    if choices:
        return str(choices.get(value, value))
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- section forms, built from the section serializers


class SectionForm(forms.Form):
    """A section's own (non-row) fields; subclasses are built per discipline."""


class RowForm(forms.Form):
    """One row of a table: a lesion, or a prior radiotherapy course."""

    def payload(self) -> dict[str, Any]:
        """The row as serializer input. Unanswered fields are left out rather than sent as null,
        so a required one is reported as "required"; an unticked checkbox is the default."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "DELETE" and value not in (None, "") and not (value is False and self._is_checkbox(name))
        }

    def _is_checkbox(self, name: str) -> bool:
        return type(self.fields[name]) is forms.BooleanField


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A list field of a section shown as a table of rows."""

    name: str  # the serializer field: "lesions" or "prior_radiotherapy"
    caption: str
    form_class: type[RowForm]
    # Surgery and pain describe the levels radiology described: one fixed row per level.
    follows_radiology: bool


@dataclass(frozen=True, slots=True)
class SectionSpec:
    form_class: type[SectionForm]
    tables: tuple[TableSpec, ...]


def _row_form_class(prefix: str, child: serializers.Serializer[Any], *, fixed_level: bool) -> type[RowForm]:
    fields: dict[str, forms.Field] = {name: _form_field(name, f) for name, f in child.fields.items()}
    if fixed_level:
        fields["level"].widget = forms.HiddenInput()
    return type(f"{prefix}RowForm", (RowForm,), fields)


@cache
def section_spec(discipline: str) -> SectionSpec:
    """The browser form of a discipline's section, from the fields of its serializer."""
    serializer = SECTION_SERIALIZERS[discipline]()
    own: dict[str, forms.Field] = {}
    tables: list[TableSpec] = []
    for name, source in serializer.fields.items():
        if source.read_only:
            continue
        if isinstance(source, LesionListField):
            follows = discipline != Discipline.RADIOLOGY
            row = _row_form_class(f"{discipline.title()}Lesion", source.child, fixed_level=follows)  # type: ignore[arg-type]
            tables.append(TableSpec(name, "Lesions", row, follows_radiology=follows))
        elif isinstance(source, serializers.ListSerializer):
            row = _row_form_class(f"{discipline.title()}{name.title()}", source.child, fixed_level=False)  # type: ignore[arg-type]
            tables.append(TableSpec(name, label_for(name), row, follows_radiology=False))
        else:
            own[name] = _form_field(name, source)
    form_class = type(f"{discipline.title()}SectionForm", (SectionForm,), own)
    return SectionSpec(form_class=form_class, tables=tuple(tables))


def _stored_rows(spec: TableSpec, section: SectionBase, case: Case) -> list[dict[str, Any]]:
    """The table's stored rows as form initial data, in level order."""
    if spec.name != "lesions":
        # Stored as JSON (ISO dates, float doses): back to the values the row fields compare.
        fields = spec.form_class.base_fields
        return [
            {n: fields[n].to_python(value) for n, value in row.items()} for row in getattr(section, spec.name) or []
        ]
    names = list(spec.form_class.base_fields)
    stored = {lesion.level: {n: getattr(lesion, n) for n in names} for lesion in section.lesions.all()}  # type: ignore[attr-defined]
    if spec.follows_radiology:
        levels = [lesion.level for lesion in case.radiology.lesions.all()]
        return [stored.get(level, {"level": level}) for level in sorted(levels, key=v.LEVEL_ORDER.__getitem__)]
    return [stored[level] for level in sorted(stored, key=v.LEVEL_ORDER.__getitem__)]


@dataclass(frozen=True, slots=True)
class Cell:
    field: forms.BoundField
    errors: list[str]


@dataclass(slots=True)
class Row:
    name: str  # the row's level when known, else "row 2": names its inputs for screen readers
    cells: list[Cell]
    errors: list[str]
    hidden: list[forms.BoundField]
    delete: forms.BoundField | None


@dataclass(slots=True)
class Table:
    spec: TableSpec
    formset: BaseFormSet  # type: ignore[type-arg]
    errors: list[str] = field(default_factory=list)
    row_errors: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    sent: list[RowForm] = field(default_factory=list)  # rows sent to the serializer, in order
    current: list[str] | None = None  # the other person's rows, when a stale save differs

    def payload(self) -> list[dict[str, Any]]:
        """Rows as serializer input: deleted and empty rows are not sent (an empty fixed-level row
        means nothing recorded for that level)."""
        self.sent = []
        out = []
        for form in self.formset.forms:
            if form.cleaned_data.get("DELETE"):
                continue
            row = form.payload()
            if set(row) <= ({"level"} if self.spec.follows_radiology else set()):
                continue
            self.sent.append(form)
            out.append(row)
        return out

    def add_errors(self, detail: Any) -> None:
        # ListField errors are {index: {field: [...]}}; ListSerializer errors are a list aligned
        # with the rows; a rule about the whole list is a list of strings.
        if isinstance(detail, dict):
            indexed: Iterable[tuple[int, Any]] = ((int(i), e) for i, e in detail.items())
        elif detail and all(isinstance(e, dict) for e in detail):
            indexed = enumerate(detail)
        else:
            self.errors.extend(error_texts(detail))
            return
        for i, errors in indexed:
            if not errors:
                continue
            if i >= len(self.sent):  # not a row this form sent: say it about the table
                self.errors.extend(error_texts(errors))
                continue
            form = self.sent[i]
            target = self.row_errors.setdefault(self.formset.forms.index(form), {})
            for name, msgs in errors.items():
                key = name if name in form.fields else "__row__"
                target.setdefault(key, []).extend(error_texts(_unwrap(name, msgs)))

    @property
    def headers(self) -> list[str]:
        return [str(f.label) for name, f in self.spec.form_class.base_fields.items() if not self._fixed(name)]

    def _fixed(self, name: str) -> bool:
        return name == "level" and self.spec.follows_radiology

    def rows(self) -> list[Row]:
        out = []
        for i, form in enumerate(self.formset.forms):
            errors = self.row_errors.get(i, {})
            cells = [
                Cell(form[name], _with_aria([*form[name].errors, *errors.get(name, [])], form[name]))
                for name in form.fields
                if name != "DELETE" and not self._fixed(name)
            ]
            hidden = [form[name] for name in form.fields if self._fixed(name)]
            level = form["level"].value() if "level" in form.fields else None
            row_name = str(level) if level else f"row {i + 1}"
            delete = form["DELETE"] if self.formset.can_delete else None
            out.append(Row(row_name, cells, [*form.non_field_errors(), *errors.get("__row__", [])], hidden, delete))
        return out

    def has_errors(self) -> bool:
        return bool(self.errors or self.row_errors or self.formset.non_form_errors() or not self._parsed())

    def _parsed(self) -> bool:
        return not self.formset.is_bound or self.formset.is_valid()


def _unwrap(name: str, detail: Any) -> Any:
    # A field validator that raises {field: [...]} (serializers' `_not_in_future`) nests the
    # field's own name inside its errors; show the message, not "Birth date: ...".
    if isinstance(detail, dict) and set(detail) == {name}:
        return detail[name]
    return detail


def error_texts(detail: Any) -> list[str]:
    """Serializer or Django error details flattened to plain strings."""
    if isinstance(detail, (list, tuple)):
        return [m for item in detail for m in error_texts(item)]
    if isinstance(detail, dict):
        return [f"{label_for(str(k))}: {m}" for k, item in detail.items() for m in error_texts(item)]
    return [str(detail)]


def _with_aria(errors: list[str], bound: forms.BoundField) -> list[str]:
    """Serializer errors are not Django form errors, so mark the input invalid ourselves and point
    it at the message (Django's own `<id>_error` convention)."""
    if errors and bound.auto_id:
        described = [f"{bound.auto_id}_error"] + ([f"{bound.auto_id}_helptext"] if bound.help_text else [])
        bound.field.widget.attrs.update({"aria-invalid": "true", "aria-describedby": " ".join(described)})
    return errors


@dataclass(frozen=True, slots=True)
class FieldRow:
    field: forms.BoundField
    errors: list[str]
    current: str | None  # the other person's value, shown when a stale save differs
    is_group: bool  # several inputs (checkboxes): a fieldset with a legend, not a label


class SectionEditor:
    """A section's form and tables, validated by the section's API serializer.

    `data` is the POST; without it the editor shows the stored values. Errors from the serializer,
    the service or the submission rules are kept here (not as Django form errors) so they can be
    attached after a save, when the form shows stored values again.
    """

    def __init__(self, *, case: Case, section: SectionBase, data: Mapping[str, Any] | None = None) -> None:
        self.case, self.section = case, section
        self.version = section.version
        self.spec = section_spec(section.DISCIPLINE)
        own = {name: getattr(section, name) for name in self.spec.form_class.base_fields}
        self.form = self.spec.form_class(data, initial=_initial(self.spec.form_class.base_fields, own))
        self.tables = [self._table(table, data) for table in self.spec.tables]
        self.field_errors: dict[str, list[str]] = {}
        self.non_field_errors: list[str] = []
        self.current: dict[str, str] = {}
        self.validated: dict[str, Any] = {}

    def _table(self, spec: TableSpec, data: Mapping[str, Any] | None) -> Table:
        stored = _stored_rows(spec, self.section, self.case)
        free = not spec.follows_radiology
        formset_class = formset_factory(spec.form_class, extra=2 if free else 0, can_delete=free)
        initial = [_initial(spec.form_class.base_fields, row) for row in stored]
        return Table(spec, formset_class(data, initial=initial, prefix=spec.name))

    def has_changed(self) -> bool:
        return self.form.has_changed() or any(table.formset.has_changed() for table in self.tables)

    def is_valid(self) -> bool:
        """Parse the POST, then validate it with the section serializer; `validated` holds the
        serializer's output (what `section_update` takes) when true."""
        # Parse every part (not short-circuit), so all parsing errors show at once.
        parsed = self.form.is_valid() & all([table.formset.is_valid() for table in self.tables])
        if not parsed:
            return False
        payload: dict[str, Any] = dict(self.form.cleaned_data)
        for table in self.tables:
            payload[table.spec.name] = table.payload()
        serializer = SECTION_SERIALIZERS[self.section.DISCIPLINE](
            self.section, data=payload, context={"case": self.case}
        )
        if serializer.is_valid():
            self.validated = dict(serializer.validated_data)
            return True
        self.add_errors(serializer.errors)
        return False

    def add_errors(self, errors: Mapping[str, Any]) -> None:
        """Attach errors keyed by field name (serializer, service or submission rules)."""
        tables = {table.spec.name: table for table in self.tables}
        for name, detail in errors.items():
            if name in tables:
                tables[name].add_errors(detail)
            elif name in self.form.fields:
                self.field_errors.setdefault(name, []).extend(error_texts(_unwrap(name, detail)))
            elif name in ("non_field_errors", "__all__"):
                self.non_field_errors.extend(error_texts(detail))
            else:
                self.non_field_errors.extend(f"{label_for(name)}: {m}" for m in error_texts(detail))

    def show_current(self) -> None:
        """After a stale save (the editor holds the locked, current section and the user's POST):
        keep the user's input and note the stored value wherever it differs from what the user
        typed. The form now carries the current version, so saving again deliberately replaces
        the other person's values."""
        current = self.section
        for name, form_field in self.form.fields.items():
            if form_field.has_changed(self.form[name].initial, self.form[name].data):
                self.current[name] = display(form_field, getattr(current, name))
        for table in self.tables:
            theirs = [_row_text(table.spec.form_class, row) for row in _stored_rows(table.spec, current, self.case)]
            theirs = [text for text in theirs if text]
            ours = [_row_text(table.spec.form_class, f.cleaned_data) for f in table.formset.forms if _row_parsed(f)]
            if theirs != [text for text in ours if text]:
                table.current = theirs

    @property
    def has_errors(self) -> bool:
        return bool(
            self.field_errors
            or self.non_field_errors
            or (self.form.is_bound and self.form.errors)
            or any(table.has_errors() for table in self.tables)
        )

    def fields(self) -> list[FieldRow]:
        out = []
        for bound in self.form:
            errors = _with_aria([*bound.errors, *self.field_errors.get(bound.name, [])], bound)
            is_group = isinstance(bound.field.widget, forms.CheckboxSelectMultiple)
            out.append(FieldRow(bound, errors, self.current.get(bound.name), is_group))
        return out


def _row_parsed(form: forms.Form) -> bool:
    return form.is_valid() and not form.cleaned_data.get("DELETE")


def _row_text(form_class: type[RowForm], values: Mapping[str, Any]) -> str:
    """A row in words ("T4: Index lesion yes, ESCC grade (Bilsky) 2"); empty for an unused row."""
    fields = form_class.base_fields
    parts = [
        f"{f.label} {display(f, values.get(name))}"
        for name, f in fields.items()
        if name != "level" and values.get(name) not in (None, "", False)
    ]
    level = values.get("level")
    if not level:
        return "; ".join(parts)
    return f"{level}: {', '.join(parts) or 'nothing recorded'}"


# --- read-only views of a section


@dataclass(frozen=True, slots=True)
class Value:
    label: str
    text: str


def section_values(section: SectionBase, names: Iterable[str] | None = None) -> list[Value]:
    """The section's own fields (or the named ones) as label and text."""
    base = section_spec(section.DISCIPLINE).form_class.base_fields
    wanted = list(names) if names is not None else list(base)
    return [Value(str(base[name].label), display(base[name], getattr(section, name))) for name in wanted]


def section_rows(section: SectionBase, case: Case) -> list[tuple[str, list[str]]]:
    """Each table of the section as (caption, rows in words)."""
    spec = section_spec(section.DISCIPLINE)
    return [
        (
            table.caption,
            [text for row in _stored_rows(table, section, case) if (text := _row_text(table.form_class, row))],
        )
        for table in spec.tables
    ]


# --- referral


class ReferralForm(forms.Form):
    """A coordinator's referral. Rules are CaseCreateSerializer's, as for `POST /api/v1/cases/`."""

    board = forms.ModelChoiceField(queryset=Board.objects.none(), empty_label=None)
    mrn = forms.CharField(label=label_for("mrn"), max_length=64)
    name = forms.CharField(label="Patient's name", max_length=200)
    birth_date = forms.DateField(label="Birth date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    sex = forms.ChoiceField(choices=v.SEX)
    referral_reason = forms.CharField(label="Reason for referral", widget=forms.Textarea(attrs={"rows": 3}))
    referrer = forms.CharField(label="Referred by", required=False, help_text="Referring clinician or unit.")
    referred_primary = forms.ChoiceField(label=label_for("referred_primary"), choices=v.PRIMARY)
    goals = forms.CharField(label=label_for("goals"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    PATIENT_FIELDS: Final = ("mrn", "name", "birth_date", "sex")

    def __init__(self, *args: Any, boards: Sequence[Board], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only boards where the user coordinates: a choice they may not use is not offered.
        self.fields["board"].queryset = Board.objects.filter(pk__in=[b.pk for b in boards])  # type: ignore[attr-defined]
        if len(boards) == 1:
            self.fields["board"].initial = boards[0].pk

    def validate(self, request: HttpRequest) -> dict[str, Any] | None:
        """The service's arguments when the serializer accepts the referral; errors land on the
        form's fields otherwise."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        payload = {
            "board": data["board"].pk,
            "patient": {name: data[name] for name in self.PATIENT_FIELDS},
            **{name: data[name] for name in ("referral_reason", "referrer", "referred_primary", "goals")},
        }
        serializer = CaseCreateSerializer(data=payload, context={"request": request})
        if serializer.is_valid():
            return dict(serializer.validated_data)
        self.add_api_errors(serializer.errors)
        return None

    def add_api_errors(self, errors: Mapping[str, Any]) -> None:
        for name, detail in errors.items():
            if name == "patient" and isinstance(detail, dict):
                self.add_api_errors(detail)
            elif name in self.fields:
                self.add_error(name, error_texts(_unwrap(name, detail)))
            else:
                self.add_error(None, error_texts(detail))
