"""Flag strings (spec 1.4, 3.12): exact text, stored with results, so never reword one.

"Calculator" flags are raised by a system from its own inputs; "case" flags are added by the case
mapping (spec 4.7, `case_mapping.py`).
"""

from __future__ import annotations

from typing import Final

from scoring.rules.kps import FLAG_KPS_CONVERTED

__all__ = [
    "FLAG_BOLLEN_OUTSIDE_COHORT",
    "FLAG_BOLLEN_PROFILE_ENTERED",
    "FLAG_BRAIN_NOT_VISCERAL",
    "FLAG_ESCC_BELOW_CONUS",
    "FLAG_GERMINOMA",
    "FLAG_GROWTH_ENTERED",
    "FLAG_KPS_CONVERTED",
    "FLAG_PROVISIONAL_BOLLEN",
    "FLAG_PROVISIONAL_RADES",
    "FLAG_RADES_ONSET_ON_REFERRAL_DAY",
    "FLAG_RADES_TO_REFERRAL_DATE",
    "FLAG_RADES_WITH_AID",
    "FLAG_SINS_PAIN_HIGHEST",
    "FLAG_TOKUHASHI_OTHERS",
    "FLAG_TOKUHASHI_VISCERAL_NOT_SCORED",
    "FLAG_UNKNOWN_NOT_LUNG",
    "FLAG_VDL_KPS_10",
    "FLAG_VDL_NEURO_DEFICIT",
    "FLAG_VERTEBRAL_FRACTURE_COUNTED",
    "PROVISIONAL_FLAGS",
    "SPEC_FLAGS",
]

# spec 3.12, in the catalogue's order.
FLAG_SINS_PAIN_HIGHEST: Final = "SINS pain: highest applicable option scored"
FLAG_ESCC_BELOW_CONUS: Final = "ESCC graded below the conus"
FLAG_TOKUHASHI_OTHERS: Final = "primary scored as 'others'"
FLAG_TOKUHASHI_VISCERAL_NOT_SCORED: Final = "visceral metastases outside Tokuhashi major organs not scored"
FLAG_GROWTH_ENTERED: Final = "growth class entered by user"
FLAG_BRAIN_NOT_VISCERAL: Final = "brain metastases not counted as visceral"
FLAG_UNKNOWN_NOT_LUNG: Final = "unknown primary scored as not lung"
FLAG_VERTEBRAL_FRACTURE_COUNTED: Final = "vertebral pathological fracture counted"
FLAG_VDL_KPS_10: Final = "KPS 10 outside van der Linden table"
FLAG_VDL_NEURO_DEFICIT: Final = "derived in patients without neurological deficit"
FLAG_RADES_TO_REFERRAL_DATE: Final = "interval measured to referral date"
FLAG_RADES_WITH_AID: Final = "walking with aid counted as ambulatory"
FLAG_RADES_ONSET_ON_REFERRAL_DAY: Final = "deficit onset on referral day counted as 1 day"
FLAG_BOLLEN_PROFILE_ENTERED: Final = "Bollen profile entered by user"
FLAG_BOLLEN_OUTSIDE_COHORT: Final = "primary outside Bollen derivation cohort"
FLAG_GERMINOMA: Final = "germ_cell classed as germinoma"

SPEC_FLAGS: Final[tuple[str, ...]] = (
    FLAG_KPS_CONVERTED,
    FLAG_SINS_PAIN_HIGHEST,
    FLAG_ESCC_BELOW_CONUS,
    FLAG_TOKUHASHI_OTHERS,
    FLAG_TOKUHASHI_VISCERAL_NOT_SCORED,
    FLAG_GROWTH_ENTERED,
    FLAG_BRAIN_NOT_VISCERAL,
    FLAG_UNKNOWN_NOT_LUNG,
    FLAG_VERTEBRAL_FRACTURE_COUNTED,
    FLAG_VDL_KPS_10,
    FLAG_VDL_NEURO_DEFICIT,
    FLAG_RADES_TO_REFERRAL_DATE,
    FLAG_RADES_WITH_AID,
    FLAG_RADES_ONSET_ON_REFERRAL_DAY,
    FLAG_BOLLEN_PROFILE_ENTERED,
    FLAG_BOLLEN_OUTSIDE_COHORT,
    FLAG_GERMINOMA,
)

# Contract: "Systems marked provisional in the spec say so in flags". The spec catalogue has no
# string for this, so these are this module's: "provisional: " followed by the spec's Status line
# (spec 3.8, 3.9), shortened. Every result of the system carries it, complete or not, because the
# caveat concerns the system itself. Stable: stored results and clients match on these strings.
FLAG_PROVISIONAL_RADES: Final = (
    "provisional: item table reconstructed to span the published 20-45; "
    "6-month survival of the upper two groups not verified"
)
FLAG_PROVISIONAL_BOLLEN: Final = "provisional: flowchart branches B-D reconstructed from the published category medians"

PROVISIONAL_FLAGS: Final[tuple[str, ...]] = (FLAG_PROVISIONAL_RADES, FLAG_PROVISIONAL_BOLLEN)
