"""Karnofsky / ECOG scales and their crosswalk (spec 3.3).

Shared by every system that reads a KPS (performance status, Tokuhashi, van der Linden, Bollen,
NOMS), so the crosswalk and its flag exist once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

KPS_VALUES: Final[tuple[int, ...]] = tuple(range(0, 101, 10))
ECOG_VALUES: Final[tuple[int, ...]] = (0, 1, 2, 3, 4, 5)

# spec 3.3: "ECOG from KPS" column.
KPS_TO_ECOG: Final[dict[int, int]] = {
    100: 0,
    90: 0,
    80: 1,
    70: 1,
    60: 2,
    50: 2,
    40: 3,
    30: 3,
    20: 4,
    10: 4,
    0: 5,
}
# spec 3.3: "ECOG to KPS (when only ECOG is recorded)". Lossy; flagged wherever used.
ECOG_TO_KPS: Final[dict[int, int]] = {0: 90, 1: 80, 2: 60, 3: 40, 4: 20, 5: 0}

FLAG_KPS_CONVERTED: Final = "KPS converted from ECOG"


@dataclass(frozen=True, slots=True)
class ResolvedKps:
    """The KPS a system should use, and whether it came from an ECOG grade."""

    kps: int | None
    converted: bool

    @property
    def flags(self) -> list[str]:
        return [FLAG_KPS_CONVERTED] if self.converted else []


def resolve_kps(kps: int | None, ecog: int | None) -> ResolvedKps:
    """Spec 3.3 and 4.3: a recorded KPS wins; otherwise the ECOG grade is converted (flagged).

    Never converts a KPS to ECOG and back. Both absent gives `kps=None` (missing, never a default).
    """
    if kps is not None:
        return ResolvedKps(kps=kps, converted=False)
    if ecog is not None:
        return ResolvedKps(kps=ECOG_TO_KPS[ecog], converted=True)
    return ResolvedKps(kps=None, converted=False)
