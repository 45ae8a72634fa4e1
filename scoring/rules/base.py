"""Result shape and scoring helpers shared by every system (spec 1.2, 1.3, 1.7).

Every `compute()` builds its result with `ResultBuilder`, so the missing-input rule of spec 1.2
(never a default: a missing or null input makes the result incomplete and is named in `missing`)
is implemented once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

Status = Literal["complete", "incomplete"]

# spec 1.7: every system of this release.
VERSION: Final = "1.0"

# Upper bound of the last row of an open-ended band table ("> 14 days", ">= 3 foci").
UNBOUNDED: Final = math.inf


@dataclass(frozen=True, slots=True)
class ItemScore:
    """One scored item (spec 1.3); `points` is None for systems without points."""

    item: str
    value: object
    points: int | None

    def to_dict(self) -> dict[str, object]:
        return {"item": self.item, "value": self.value, "points": self.points}


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """The result of one system (spec 1.3).

    Incomplete results (spec 1.2) have `score`, `category` and `category_label` None, still list
    the items that could be scored, and name the missing contract inputs in `missing`.
    `rank` is Bilsky's ordinal grade (spec 3.2, for sorting only); None for every other system.
    """

    system: str
    version: str
    status: Status
    score: int | str | None
    category: str | None
    category_label: str | None
    items: tuple[ItemScore, ...]
    flags: tuple[str, ...]
    missing: tuple[str, ...]
    citation: str
    provisional: bool
    rank: int | None = None

    @property
    def is_complete(self) -> bool:
        return self.status == "complete"

    def with_flags(self, *flags: str) -> ScoreResult:
        """A copy with case flags (spec 3.12) appended; a flag already present is not repeated."""
        added = tuple(dict.fromkeys(f for f in flags if f not in self.flags))
        return replace(self, flags=self.flags + added) if added else self

    def to_dict(self) -> dict[str, object]:
        """The contract's result JSON plus `status` and `missing` (and Bilsky's `rank`)."""
        data: dict[str, object] = {
            "system": self.system,
            "version": self.version,
            "status": self.status,
            "score": self.score,
            "category": self.category,
            "category_label": self.category_label,
            "items": [item.to_dict() for item in self.items],
            "flags": list(self.flags),
            "missing": list(self.missing),
            "citation": self.citation,
        }
        if self.rank is not None:
            data["rank"] = self.rank
        return data


@dataclass(frozen=True, slots=True)
class SystemMeta:
    """Identity of a system: contract name, display title, spec version and provenance line."""

    name: str
    title: str
    citation: str
    version: str = VERSION
    # Contract: systems marked provisional in the spec say so in `flags` (strings in flags.py).
    provisional_flag: str | None = None

    @property
    def provisional(self) -> bool:
        return self.provisional_flag is not None


@dataclass(frozen=True, slots=True)
class Band:
    """A category band of totals, both ends inclusive."""

    low: int
    high: int
    category: str
    label: str


def band_for(bands: Sequence[Band], total: int) -> Band:
    """The band holding `total`; a total outside every band is a programming error."""
    for band in bands:
        if band.low <= total <= band.high:
            return band
    raise ValueError(f"total {total} is outside every band")


def points_up_to(table: Sequence[tuple[float, int]], value: float) -> int:
    """Points of the first row whose inclusive upper bound holds `value` (rows ascending)."""
    for upper, points in table:
        if value <= upper:
            return points
    raise ValueError(f"value {value} is above the last row of the table")


class ResultBuilder:
    """Collects items, flags and missing inputs while one system scores its inputs."""

    def __init__(self, meta: SystemMeta, inputs: Mapping[str, Any]) -> None:
        self._meta = meta
        self._inputs = inputs
        self._items: list[ItemScore] = []
        self._flags: list[str] = [meta.provisional_flag] if meta.provisional_flag else []
        self._missing: list[str] = []

    def get(self, name: str) -> Any:
        """The value of a required input; absent or null is recorded as missing (spec 1.2)."""
        value = self._inputs.get(name)
        if value is None:
            self.need(name)
        return value

    def optional(self, name: str) -> Any:
        """The value of an optional input (an override), None when not given."""
        return self._inputs.get(name)

    def need(self, name: str) -> None:
        if name not in self._missing:
            self._missing.append(name)

    def flag(self, flag: str) -> None:
        if flag not in self._flags:
            self._flags.append(flag)

    def item(self, item: str, value: object, points: int | None) -> None:
        self._items.append(ItemScore(item, value, points))

    def choice(self, name: str, points: Mapping[Any, int]) -> None:
        """Score a required input read straight from a points table (item named as the input)."""
        value = self.get(name)
        if value is not None:
            self.item(name, value, points[value])

    @property
    def has_missing(self) -> bool:
        return bool(self._missing)

    def incomplete(self) -> ScoreResult:
        return self._result("incomplete", None, None, None, None)

    def complete(self, score: int | str | None, category: str, label: str, rank: int | None = None) -> ScoreResult:
        if self._missing:
            raise ValueError(f"{self._meta.name}: cannot complete with missing inputs {self._missing}")
        return self._result("complete", score, category, label, rank)

    def summed(self, bands: Sequence[Band]) -> ScoreResult:
        """Total of the item points banded into a category, or incomplete if anything is missing."""
        if self._missing:
            return self.incomplete()
        total = sum(item.points or 0 for item in self._items)
        band = band_for(bands, total)
        return self.complete(total, band.category, band.label)

    def _result(
        self, status: Status, score: int | str | None, category: str | None, label: str | None, rank: int | None
    ) -> ScoreResult:
        return ScoreResult(
            system=self._meta.name,
            version=self._meta.version,
            status=status,
            score=score,
            category=category,
            category_label=label,
            items=tuple(self._items),
            flags=tuple(self._flags),
            missing=tuple(self._missing),
            citation=self._meta.citation,
            provisional=self._meta.provisional,
            rank=rank,
        )
