from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.demo import demo_password, seed_people


class Command(BaseCommand):
    help = "Load the demo boards, people and data (idempotent: running it twice creates nothing twice)."

    def handle(self, *args: Any, **options: Any) -> None:
        memberships = seed_people()
        self.stdout.write(self.style.SUCCESS("Demo data ready. Log in at http://127.0.0.1:8000/ with:"))
        for m in memberships:
            self.stdout.write(f"  {m.user.username:<12} {m.board.name:<14} {', '.join(m.roles)}")
        self.stdout.write(f"Password for every demo account: {demo_password()}")
