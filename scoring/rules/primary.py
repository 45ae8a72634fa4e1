"""Primary tumour vocabulary and its mapping to every scoring system (spec 2.1).

One data table, read by every system; no scoring module carries its own list of primaries.
"None" in a column means the spec gives the code no value for that system ("—" in spec 2.1):
the calculator then requires its override input (contract: `primary_growth`, `bollen_profile`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal

Growth = Literal["slow", "moderate", "rapid"]
BollenProfile = Literal["favourable", "moderate", "unfavourable"]


class Radiosensitivity(StrEnum):
    """Spec 3.10 / review 4.5: sensitivity to conventional external beam radiotherapy."""

    RADIOSENSITIVE = "radiosensitive"
    RADIORESISTANT = "radioresistant"
    UNCLASSIFIED = "unclassified"


@dataclass(frozen=True, slots=True)
class PrimaryMapping:
    """One row of spec 2.1."""

    code: str
    label: str
    tokuhashi_site: int
    tokuhashi_others: bool  # † : scored as Tokuhashi "others" (2 points), flagged
    tomita_growth: Growth | None
    bauer_not_lung: int
    bauer_favourable: int
    van_der_linden: int
    rades: int
    bollen_profile: BollenProfile | None
    bollen_outside_cohort: bool  # ‡ : excluded from Bollen's derivation cohort, flagged
    radiosensitivity: Radiosensitivity
    germinoma_convention: bool = False  # § : germ_cell classed as germinoma, flagged
    unknown_not_lung: bool = False  # ¶ : unknown primary scored as not lung, flagged

    @property
    def solid(self) -> bool:
        """Spec 2.2 note 4: every code except myeloma and lymphoma is a solid tumour."""
        return self.code not in HAEMATOLOGICAL


HAEMATOLOGICAL: Final = frozenset({"myeloma", "lymphoma"})

_RS = Radiosensitivity.RADIOSENSITIVE
_RR = Radiosensitivity.RADIORESISTANT
_UC = Radiosensitivity.UNCLASSIFIED

# spec 2.1, row by row, in the contract's order. Columns: Tokuhashi site, others (†), Tomita
# growth, Bauer not lung, Bauer favourable, van der Linden, Rades, Bollen profile, outside Bollen
# cohort (‡), radiosensitivity.
_ROWS: Final[tuple[PrimaryMapping, ...]] = (
    PrimaryMapping("breast", "Breast", 5, False, "slow", 1, 1, 3, 8, "favourable", False, _RS),
    PrimaryMapping("prostate", "Prostate", 5, False, "slow", 1, 0, 2, 7, "moderate", False, _RS),
    PrimaryMapping("thyroid", "Thyroid", 5, False, "slow", 1, 0, 0, 4, None, False, _RR),
    PrimaryMapping("kidney", "Kidney (renal cell)", 3, False, "moderate", 1, 1, 0, 4, None, False, _RR),
    PrimaryMapping("lung_nsclc", "Lung, non-small cell", 0, False, "rapid", 0, 0, 1, 3, "unfavourable", False, _RR),
    PrimaryMapping("lung_sclc", "Lung, small cell", 0, False, "rapid", 0, 0, 1, 3, "unfavourable", False, _UC),
    PrimaryMapping("colon", "Colon", 2, True, "rapid", 1, 0, 0, 4, None, False, _RR),
    PrimaryMapping("rectum", "Rectum", 4, False, None, 1, 0, 0, 4, None, False, _RR),
    PrimaryMapping("stomach", "Stomach", 0, False, "rapid", 1, 0, 0, 4, None, False, _UC),
    PrimaryMapping("oesophagus", "Oesophagus", 0, False, None, 1, 0, 0, 4, None, False, _UC),
    PrimaryMapping("pancreas", "Pancreas", 0, False, None, 1, 0, 0, 4, None, False, _UC),
    PrimaryMapping("liver", "Liver (hepatocellular)", 1, False, "rapid", 1, 0, 0, 4, None, False, _RR),
    PrimaryMapping("gallbladder", "Gallbladder", 1, False, None, 1, 0, 0, 4, None, False, _UC),
    PrimaryMapping("bladder", "Bladder", 0, False, None, 1, 0, 0, 4, None, False, _UC),
    PrimaryMapping("uterus", "Uterus", 3, False, "moderate", 1, 0, 0, 4, None, False, _UC),
    PrimaryMapping("ovary", "Ovary", 2, True, None, 1, 0, 0, 4, None, False, _UC),
    PrimaryMapping("melanoma", "Melanoma", 2, True, None, 1, 0, 0, 4, None, False, _RR),
    PrimaryMapping("sarcoma", "Sarcoma", 2, True, None, 1, 0, 0, 4, None, False, _RR),
    PrimaryMapping("osteosarcoma", "Osteosarcoma", 0, False, None, 1, 0, 0, 4, None, False, _RR),
    PrimaryMapping("myeloma", "Multiple myeloma", 2, True, None, 1, 1, 0, 9, None, True, _RS),
    PrimaryMapping("lymphoma", "Lymphoma", 2, True, None, 1, 1, 0, 9, None, True, _RS),
    PrimaryMapping("germ_cell", "Germ cell", 2, True, None, 1, 0, 0, 4, None, False, _RS, germinoma_convention=True),
    PrimaryMapping("carcinoid", "Carcinoid", 5, False, None, 1, 0, 0, 4, None, False, _UC),
    PrimaryMapping("head_neck", "Head and neck", 2, True, None, 1, 0, 0, 4, None, False, _UC),
    PrimaryMapping("unknown", "Unknown primary", 1, False, "rapid", 1, 0, 0, 4, None, True, _UC, unknown_not_lung=True),
    PrimaryMapping("other", "Other", 2, True, None, 1, 0, 0, 4, None, False, _UC),
)

PRIMARIES: Final[dict[str, PrimaryMapping]] = {row.code: row for row in _ROWS}
PRIMARY_CODES: Final[tuple[str, ...]] = tuple(PRIMARIES)
PRIMARY_CHOICES: Final[tuple[tuple[str, str], ...]] = tuple((r.code, r.label) for r in _ROWS)


def primary_mapping(code: str) -> PrimaryMapping:
    """The spec 2.1 row for a contract `primary` code; KeyError for an unknown code."""
    return PRIMARIES[code]
