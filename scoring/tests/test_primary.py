"""Spec 2.1 / 2.2: the primary tumour table."""

from scoring.rules.primary import PRIMARIES, PRIMARY_CODES, Radiosensitivity

CONTRACT_CODES = (
    "breast prostate thyroid kidney lung_nsclc lung_sclc colon rectum stomach oesophagus pancreas "
    "liver gallbladder bladder uterus ovary melanoma sarcoma osteosarcoma myeloma lymphoma germ_cell "
    "carcinoid head_neck unknown other"
).split()


def test_vocabulary_is_exactly_the_contract_in_order():
    assert list(PRIMARY_CODES) == CONTRACT_CODES


def test_radiosensitivity_lists_follow_review_4_5():
    sensitive = {c for c, r in PRIMARIES.items() if r.radiosensitivity is Radiosensitivity.RADIOSENSITIVE}
    resistant = {c for c, r in PRIMARIES.items() if r.radiosensitivity is Radiosensitivity.RADIORESISTANT}
    assert sensitive == {"breast", "prostate", "myeloma", "lymphoma", "germ_cell"}
    assert resistant == {
        "kidney",
        "colon",
        "rectum",
        "melanoma",
        "sarcoma",
        "osteosarcoma",
        "thyroid",
        "liver",
        "lung_nsclc",
    }


def test_solid_excludes_only_haematological():
    assert {c for c, r in PRIMARIES.items() if not r.solid} == {"myeloma", "lymphoma"}


def test_tokuhashi_others_are_two_points():
    for row in PRIMARIES.values():
        if row.tokuhashi_others:
            assert row.tokuhashi_site == 2, row.code


def test_bauer_favourable_primaries():
    assert {c for c, r in PRIMARIES.items() if r.bauer_favourable} == {"breast", "kidney", "myeloma", "lymphoma"}
    assert {c for c, r in PRIMARIES.items() if not r.bauer_not_lung} == {"lung_nsclc", "lung_sclc"}


def test_flag_markers():
    assert {c for c, r in PRIMARIES.items() if r.bollen_outside_cohort} == {"myeloma", "lymphoma", "unknown"}
    assert [c for c, r in PRIMARIES.items() if r.germinoma_convention] == ["germ_cell"]
    assert [c for c, r in PRIMARIES.items() if r.unknown_not_lung] == ["unknown"]
    assert {c for c, r in PRIMARIES.items() if r.bollen_profile} == {"breast", "prostate", "lung_nsclc", "lung_sclc"}
    assert {c for c, r in PRIMARIES.items() if r.tomita_growth} == {
        "breast",
        "prostate",
        "thyroid",
        "kidney",
        "lung_nsclc",
        "lung_sclc",
        "colon",
        "stomach",
        "liver",
        "uterus",
        "unknown",
    }
