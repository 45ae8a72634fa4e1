"""The case life cycle: every allowed transition in one table (issue: enforced in one place).

referred -> in_workup -> ready -> scheduled -> discussed -> closed, plus the ways back that real
work needs: a reopened section sends a ready or scheduled case back to work-up; a case taken off
an agenda (deferred) goes back to ready; a discussed case may be taken up again for re-discussion.
"""

from __future__ import annotations

from typing import Final

from cases.vocabulary import CaseStatus

S = CaseStatus

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    S.REFERRED: frozenset({S.IN_WORKUP}),
    S.IN_WORKUP: frozenset({S.READY}),
    S.READY: frozenset({S.IN_WORKUP, S.SCHEDULED}),
    S.SCHEDULED: frozenset({S.READY, S.IN_WORKUP, S.DISCUSSED}),
    S.DISCUSSED: frozenset({S.CLOSED, S.IN_WORKUP}),
    S.CLOSED: frozenset(),
}

# Statuses in which the specialists still work on the sections.
OPEN_FOR_SECTIONS: Final = frozenset({S.REFERRED, S.IN_WORKUP, S.READY, S.SCHEDULED})


class InvalidTransition(Exception):
    """A status change the life cycle does not allow (HTTP 409)."""

    def __init__(self, current: str, target: str) -> None:
        allowed = sorted(TRANSITIONS.get(current, frozenset()))
        self.current, self.target = current, target
        choices = ", ".join(allowed) if allowed else "none: the case is closed"
        super().__init__(f"A case cannot go from '{current}' to '{target}'. Allowed next statuses: {choices}.")


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(current, target)
