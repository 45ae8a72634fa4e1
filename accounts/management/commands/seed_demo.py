from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.demo import MAIN_BOARD, demo_password, seed_people
from cases.demo import seed_cases
from meetings.demo import ready_records, seed_meetings


class Command(BaseCommand):
    help = "Load the demo boards, people and data (idempotent: running it twice creates nothing twice)."

    def handle(self, *args: Any, **options: Any) -> None:
        memberships = seed_people()
        cases = seed_cases()
        meetings = seed_meetings()
        for case in cases:  # scheduling and the demo decision moved some cases on
            case.refresh_from_db(fields=["status", "urgency"])
        self.stdout.write(self.style.SUCCESS("Demo data ready. Log in at http://127.0.0.1:8000/ with:"))
        for m in memberships:
            self.stdout.write(f"  {m.user.username:<12} {m.board.name:<14} {', '.join(m.roles)}")
        self.stdout.write(f"Password for every demo account: {demo_password()}")
        self.stdout.write(f"Demo cases on {MAIN_BOARD}:")
        for case in cases:
            self.stdout.write(f"  {case.patient.mrn:<9} {case.patient.name:<16} {case.status:<10} {case.urgency}")
        upcoming = meetings.series.meetings.filter(status="planned").order_by("starts_at").first()
        if upcoming is not None:
            self.stdout.write(
                f"Weekly meeting '{meetings.series.title}': next {upcoming.starts_at:%Y-%m-%d %H:%M %Z}, "
                f"{upcoming.agenda_items.filter(state='planned').count()} case(s) on its agenda."
            )
        self.stdout.write(
            f"Finalised decisions: {len([meetings.decision] if meetings.decision else [])}, ready records: {ready_records()}"
        )
