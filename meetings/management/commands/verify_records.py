"""`manage.py verify_records`: recompute the SHA-256 of every ready decision record (issue 7).

Prints each mismatch (or missing file) and exits non-zero when there is any, so it can run from
cron or a monitoring check. Reads only: a mismatch is reported, never repaired.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from meetings.models import DecisionRecord
from meetings.records import record_identifier, record_verify


class Command(BaseCommand):
    help = "Recompute every ready decision record's SHA-256 and report any that no longer match."

    def handle(self, *args: Any, **options: Any) -> None:
        checked = 0
        bad: list[str] = []
        for record in DecisionRecord.objects.filter(state=DecisionRecord.State.READY).order_by("pk").iterator():
            checked += 1
            ok, actual = record_verify(record)
            if not ok:
                found = actual or "file missing"
                bad.append(record_identifier(record))
                self.stderr.write(
                    f"MISMATCH {record_identifier(record)} ({record.pdf.name}): kept {record.sha256}, found {found}"
                )
        if bad:
            raise CommandError(f"{len(bad)} of {checked} decision records fail verification: {', '.join(bad)}")
        self.stdout.write(self.style.SUCCESS(f"{checked} decision records verified: all match."))
