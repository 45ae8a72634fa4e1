"""Attribution of history rows (django-simple-history, house style 9).

Services set who acted and why on every historied object they save, so history is attributed even
outside a request (tasks, management commands), where the history middleware knows no user.
Bulk services write the same history rows set-based, with `record_snapshots`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Model


def stamp(obj: Model, reason: str, by: Any | None = None) -> None:
    """Attach the change reason (and the acting user, when known) to the next save of `obj`."""
    obj._change_reason = reason  # type: ignore[attr-defined]
    if by is not None:
        obj._history_user = by  # type: ignore[attr-defined]


# The columns simple-history adds to every historical model, in the order record_snapshots fills them.
_HISTORY_COLUMNS = ("history_date", "history_type", "history_user", "history_change_reason")


def snapshot_batch_size() -> int:
    """Rows per `record_snapshots` statement: all of them on PostgreSQL (two array parameters),
    else as many (pk, reason) pairs as the backend's parameter limit leaves room for beside the
    date, type and user (SQLite: 498)."""
    if connection.vendor == "postgresql" or connection.features.max_query_params is None:
        return sys.maxsize
    return (int(connection.features.max_query_params) - 3) // 2


def record_snapshots(
    model: type[Model], reasons: Mapping[Any, str], *, by: Any | None, at: datetime, history_type: str
) -> None:
    """Write one history row for each object whose primary key is in `reasons`, with that reason:
    the database copies each row as it now stands (`INSERT ... SELECT`), exactly the tracked
    columns simple-history's own bulk helper would write, with the same date, user and type
    ("+" created, "~" changed). For bulk services (the scheduler) whose rows are already written
    and locked: no model instance per row, one statement per `snapshot_batch_size()` rows.
    """
    if history_type not in {"+", "~"}:
        raise ValueError(f"history_type must be '+' or '~', not {history_type!r}")
    history_model = model.history.model  # type: ignore[attr-defined]
    tracked = history_model.tracked_fields
    qn = connection.ops.quote_name
    opts, history_opts = model._meta, history_model._meta
    target = [qn(history_opts.get_field(f.name).column) for f in tracked]
    target += [qn(history_opts.get_field(name).column) for name in _HISTORY_COLUMNS]
    source = [f"t.{qn(f.column)}" for f in tracked]
    # Identifiers come from the models' metadata, quoted; every value is a query parameter.
    insert = (
        f"INSERT INTO {qn(history_opts.db_table)} ({', '.join(target)}) "  # noqa: S608
        f"SELECT {', '.join(source)}, %s, %s, %s, r.reason FROM {qn(opts.db_table)} t "
    )
    date = history_opts.get_field("history_date").get_db_prep_value(at, connection)
    fixed = [date, history_type, None if by is None else by.pk]
    pk = f"t.{qn(opts.pk.column)}"
    items = list(reasons.items())
    size = snapshot_batch_size()
    pk_type = opts.pk.db_type(connection)  # bigint for BigAutoField (identity is a suffix)
    with connection.cursor() as cursor:
        for start in range(0, len(items), size):
            batch = items[start : start + size]
            if connection.vendor == "postgresql":
                rows = f"JOIN unnest(%s::{pk_type}[], %s::text[]) AS r(pk, reason) ON {pk} = r.pk"
                params = [*fixed, [key for key, _ in batch], [reason for _, reason in batch]]
            else:
                values = ", ".join(["(%s, %s)"] * len(batch))
                rows = f"JOIN (SELECT column1 AS pk, column2 AS reason FROM (VALUES {values})) AS r ON {pk} = r.pk"  # noqa: S608
                params = [*fixed, *(value for pair in batch for value in pair)]
            cursor.execute(insert + rows, params)
