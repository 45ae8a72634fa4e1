"""spec 3.1: SINS items, level-to-location mapping, bands and missing inputs."""

from __future__ import annotations

import pytest

from scoring.rules import sins

# Every item at its 0-point option; tests change one item at a time.
ZERO = {
    "location": "rigid",
    "pain": "pain_free",
    "bone_lesion": "blastic",
    "alignment": "normal",
    "collapse": "none",
    "posterolateral": "none",
}

# spec 3.1 item table, copied independently of the module's data.
OPTIONS = [
    ("location", "junctional", 3),
    ("location", "mobile", 2),
    ("location", "semi_rigid", 1),
    ("location", "rigid", 0),
    ("pain", "mechanical", 3),
    ("pain", "occasional_non_mechanical", 1),
    ("pain", "pain_free", 0),
    ("bone_lesion", "lytic", 2),
    ("bone_lesion", "mixed", 1),
    ("bone_lesion", "blastic", 0),
    ("alignment", "subluxation_translation", 4),
    ("alignment", "de_novo_deformity", 2),
    ("alignment", "normal", 0),
    ("collapse", "over_50", 3),
    ("collapse", "under_50", 2),
    ("collapse", "none_over_50_involved", 1),
    ("collapse", "none", 0),
    ("posterolateral", "bilateral", 3),
    ("posterolateral", "unilateral", 1),
    ("posterolateral", "none", 0),
]


@pytest.mark.parametrize(("item", "option", "points"), OPTIONS)
def test_every_option_scores_its_points(item: str, option: str, points: int) -> None:
    result = sins.compute({**ZERO, item: option})
    assert result.score == points
    assert {i.item: i.points for i in result.items}[item] == points


def test_no_other_options_exist() -> None:
    # There is no 2-point pain or posterolateral option (spec 3.1: do not interpolate).
    expected: dict[str, set[str]] = {}
    for item, option, _ in OPTIONS:
        expected.setdefault(item, set()).add(option)
    assert set(sins.LOCATION_POINTS) == expected.pop("location")
    assert {k: set(v) for k, v in sins.ITEM_POINTS.items()} == expected


LEVELS = {
    "junctional": "occiput C1 C2 C7 T1 T2 T11 T12 L1 L5 S1",
    "mobile": "C3 C4 C5 C6 L2 L3 L4",
    "semi_rigid": "T3 T4 T5 T6 T7 T8 T9 T10",
    "rigid": "S2 S3 S4 S5",
}
LEVEL_CASES = [(level, location) for location, levels in LEVELS.items() for level in levels.split()]


@pytest.mark.parametrize(("level", "location"), LEVEL_CASES)
def test_level_maps_to_location(level: str, location: str) -> None:
    inputs = {k: v for k, v in ZERO.items() if k != "location"}
    result = sins.compute({**inputs, "level": level})
    assert result.items[0].item == "location"
    assert result.items[0].value == location  # the item shows the location code, not the level


def test_every_contract_level_is_mapped() -> None:
    contract = ["occiput", *(f"C{i}" for i in range(1, 8)), *(f"T{i}" for i in range(1, 13))]
    contract += [*(f"L{i}" for i in range(1, 6)), *(f"S{i}" for i in range(1, 6))]
    assert list(sins.LEVELS) == contract
    assert len(LEVEL_CASES) == len(contract)


BOUNDARIES = [
    ({}, 0, "stable"),
    ({"location": "junctional", "pain": "mechanical"}, 6, "stable"),
    ({"location": "junctional", "pain": "mechanical", "bone_lesion": "mixed"}, 7, "potentially_unstable"),
    (
        {
            "location": "junctional",
            "pain": "mechanical",
            "bone_lesion": "lytic",
            "alignment": "de_novo_deformity",
            "collapse": "under_50",
        },
        12,
        "potentially_unstable",
    ),
    (
        {
            "location": "junctional",
            "pain": "mechanical",
            "bone_lesion": "lytic",
            "alignment": "de_novo_deformity",
            "collapse": "under_50",
            "posterolateral": "unilateral",
        },
        13,
        "unstable",
    ),
    (
        {
            "location": "junctional",
            "pain": "mechanical",
            "bone_lesion": "lytic",
            "alignment": "subluxation_translation",
            "collapse": "over_50",
            "posterolateral": "bilateral",
        },
        18,
        "unstable",
    ),
]
LABELS = {
    "stable": "Stable (0-6)",
    "potentially_unstable": "Potentially unstable (7-12)",
    "unstable": "Unstable (13-18)",
}


@pytest.mark.parametrize(("changes", "total", "category"), BOUNDARIES)
def test_category_boundaries(changes: dict[str, str], total: int, category: str) -> None:
    result = sins.compute({**ZERO, **changes})
    assert (result.status, result.score, result.category) == ("complete", total, category)
    assert result.category_label == LABELS[category]
    assert [i.item for i in result.items] == list(ZERO)


@pytest.mark.parametrize("item", [k for k in ZERO if k != "location"])
@pytest.mark.parametrize("absent", ["drop", "null"])
def test_missing_item_makes_result_incomplete(item: str, absent: str) -> None:
    inputs: dict[str, object] = {**ZERO, "location": "junctional"}
    if absent == "drop":
        del inputs[item]
    else:
        inputs[item] = None
    result = sins.compute(inputs)
    assert result.status == "incomplete"
    assert (result.score, result.category, result.category_label) == (None, None, None)
    assert result.missing == (item,)
    assert [i.item for i in result.items] == [k for k in ZERO if k != item]


def test_neither_level_nor_location_is_missing_level() -> None:
    inputs = {k: v for k, v in ZERO.items() if k != "location"}
    result = sins.compute(inputs)
    assert result.missing == ("level",)


def test_both_level_and_location_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        sins.compute({**ZERO, "level": "T4"})


def test_result_metadata() -> None:
    result = sins.compute(ZERO)
    assert (result.system, result.version, result.provisional, result.flags) == ("sins", "1.0", False, ())
    assert "doi:10.1097/BRS.0b013e3181e16ae2" in result.citation
