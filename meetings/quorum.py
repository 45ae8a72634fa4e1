"""Quorum (issue 6): a meeting records decisions only with the chair and at least one member of
each of the four disciplines present."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from meetings.models import Attendance, Meeting

REQUIRED_ROLES: Final[tuple[str, ...]] = ("chair", "oncologist", "surgeon", "radiologist", "pain_specialist")
ROLE_LABELS: Final[dict[str, str]] = {
    "chair": "chair",
    "oncologist": "oncologist",
    "surgeon": "spine surgeon",
    "radiologist": "radiologist",
    "pain_specialist": "pain specialist",
}


@dataclass(frozen=True, slots=True)
class Quorum:
    present_roles: frozenset[str]
    missing_roles: tuple[str, ...]

    @property
    def reached(self) -> bool:
        return not self.missing_roles

    @property
    def message(self) -> str:
        if self.reached:
            return "Quorum reached."
        missing = ", ".join(ROLE_LABELS[r] for r in self.missing_roles)
        return f"No quorum: the meeting needs the chair and one member of each discipline; missing: {missing}."


def meeting_quorum(meeting: Meeting) -> Quorum:
    present = frozenset(Attendance.objects.filter(meeting=meeting, present=True).values_list("role", flat=True))
    return Quorum(present_roles=present, missing_roles=tuple(r for r in REQUIRED_ROLES if r not in present))
