"""`python -m bench` (`make bench`): build the stack and the data set, measure, print one table.

Steps: recreate the PostgreSQL database `tumourboard_bench`, migrate, collect static files, generate
the data set (bench/data.py), count SQL queries per request in process, run the in-process
benchmarks (pytest-benchmark, bench/inprocess.py), start gunicorn (2 workers) and one Celery worker,
load them with wrk and the API clients in bench/measure.py, stop them, profile every missed budget
with pyinstrument, then print the table and write bench/results/latest.md.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count

from bench import stack

PING_NOTE = "ping"


@dataclass(frozen=True, slots=True)
class Row:
    measurement: str
    median: str
    p95: str = "—"
    baseline: str = "—"
    relative: str = "—"
    budget: str = "—"
    met: bool | None = None

    def cells(self) -> list[str]:
        met = "—" if self.met is None else ("met" if self.met else "MISSED")
        return [self.measurement, self.median, self.p95, self.baseline, self.relative, self.budget, met]


HEADER = ["measurement", "median", "p95", "baseline", "relative", "budget", "met?"]


def table(rows: list[Row]) -> str:
    lines = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    out = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |" for line in lines]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def heavy_processes() -> list[str]:
    """Other test runs on this machine (they would skew the figures; reported, not stopped)."""
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout  # noqa: S607
    return [line.strip() for line in ps.splitlines() if "pytest" in line and "bench/pytest.ini" not in line]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> int:
    env = stack.environment()
    os.environ.update(env)
    started = time.monotonic()
    busy_before = heavy_processes()
    stack.recreate_database()
    stack.flush_redis()
    shutil.rmtree(stack.VAR / "media", ignore_errors=True)
    stack.RESULTS.mkdir(exist_ok=True)

    import django

    django.setup()
    from django.core.management import call_command

    from bench import data, measure

    print("Migrating and collecting static files ...", flush=True)
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    print("Generating the data set ...", flush=True)
    t0 = time.monotonic()
    ds = data.generate()
    generation_s = time.monotonic() - t0
    dataset_file = stack.RESULTS / "dataset.json"
    ds.save(dataset_file)

    print("Counting queries ...", flush=True)
    queries = measure.query_counts(ds)

    print("In-process benchmarks (pytest-benchmark) ...", flush=True)
    inprocess_file = stack.RESULTS / "inprocess.json"
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pytest", "-c", "bench/pytest.ini", "bench/inprocess.py",
         f"--benchmark-json={inprocess_file}", "--benchmark-columns=median,max,rounds"],
        cwd=stack.ROOT, env={**os.environ, "BENCH_DATASET": str(dataset_file)}, check=True,
    )  # fmt: skip
    bench_stats = {b["name"]: b for b in json.loads(inprocess_file.read_text())["benchmarks"]}
    data.vacuum_analyze()  # the in-process rounds' rolled-back UPDATEs left dead rows behind

    print("Starting gunicorn and the Celery worker; HTTP load with wrk ...", flush=True)
    with stack.running(env) as base_url:
        api = measure.api_load(base_url, ds)
        page, ping_c1 = measure.case_page(base_url, ds)
        print("Section submit -> fresh scores, records through the worker ...", flush=True)
        submit = measure.submit_to_fresh_scores(base_url, ds)
        records_per_minute = measure.worker_records_per_minute(ds)
    busy_after = heavy_processes()

    rows, profiles = _rows(ds, api, queries, bench_stats, page, ping_c1, submit, records_per_minute)
    elapsed = time.monotonic() - started
    text = table(rows)
    print()
    print(text)
    (stack.RESULTS / "latest.md").write_text(
        _report(text, ds, generation_s, elapsed, profiles, busy_before + busy_after, api)
    )
    print(f"\nWritten to {stack.RESULTS / 'latest.md'} ({elapsed:.0f} s in all).")
    return 0


def _rows(ds, api, queries, stats, page, ping_c1, submit, records_per_minute):  # type: ignore[no-untyped-def]
    from bench import measure
    from meetings.models import DecisionRecord
    from meetings.records import record_render

    rows: list[Row] = []
    profiles: dict[str, str] = {}
    ping = api["ping"]
    for name, label, path in (
        ("list", "API case list (page of 50)", measure.LIST),
        ("detail", "API case detail", measure.detail_path(ds.detail_case_ids[0])),
    ):
        trials = api[name]
        share = trials.rps / ping.rps
        rows.append(Row(f"{label}: throughput", f"{trials.rps:.0f} req/s", "—", f"{ping.rps:.0f} req/s ({PING_NOTE})",
                        f"{share:.0%}", ">= 50% of ping", share >= 0.5))  # fmt: skip
        rows.append(Row(f"{label}: latency ({measure.CONNECTIONS} connections)", f"{trials.p50_ms:.1f} ms",
                        f"{trials.p95_ms:.1f} ms", f"p95 {ping.p95_ms:.1f} ms ({PING_NOTE})",
                        f"{trials.p95_ms / ping.p95_ms:.1f}x p95"))  # fmt: skip
        if share < 0.5:
            profiles[f"{label} ({share:.0%} of the ping's throughput)"] = measure.profile_request(ds.reader_token, path)
    for name, label in (("list", "API case list"), ("detail", "API case detail"), ("ping", "ping (baseline)")):
        few, many = queries[name]
        rows.append(Row(f"SQL queries per request, {label}", f"{many} at 10,000 cases", "—", f"{few} at 10 cases",
                        f"{many - few:+d}", "identical" if name != "ping" else "—",
                        many == few if name != "ping" else None))  # fmt: skip

    bare, render = stats["bench_weasyprint_bare"]["stats"], stats["bench_record_render"]["stats"]
    ratio = render["median"] / bare["median"]
    rows.append(Row("Decision record PDF: time per record (in process)", ms(render["median"]),
                    f"{ms(render['max'])} (max of {render['rounds']})", f"{ms(bare['median'])} bare WeasyPrint",
                    f"{ratio:.2f}x", "<= 1.5x bare", ratio <= 1.5))  # fmt: skip
    bare_rate = 60 / bare["median"]
    rows.append(Row("Decision record PDF: records per minute, one worker", f"{records_per_minute:.0f}/min",
                    "—", f"{bare_rate:.0f}/min bare WeasyPrint", f"{records_per_minute / bare_rate:.0%}"))  # fmt: skip
    if ratio > 1.5:
        source = DecisionRecord.objects.get(pk=ds.record_ids[0])
        versions = count(5000)

        def render_once() -> None:
            now = datetime.now(UTC)
            record = DecisionRecord.objects.create(
                decision_id=source.decision_id, version=next(versions),
                snapshot=source.snapshot, signer_id=source.signer_id, signed_at=now, created_at=now,
            )  # fmt: skip
            record_render(record_id=record.pk)

        profiles[f"Decision record render ({ratio:.2f}x bare WeasyPrint)"] = measure.profile_rolled_back(render_once)

    sched = stats["bench_schedule"]
    info, s = sched["extra_info"], sched["stats"]
    rows.append(Row(f"Scheduling {info['placed']:,} ready cases on 200 meetings: wall time", f"{s['median']:.2f} s",
                    f"{s['max']:.2f} s (max of {s['rounds']})", "—", "—", "< 5 s", s["max"] < 5))  # fmt: skip
    rows.append(Row("Scheduling: SQL statements per run", f"{info['queries_at_large']} at {info['placed']:,} cases",
                    "—", f"{info['queries_at_small']} at {info['placed_small']} cases",
                    f"{info['queries_at_large'] - info['queries_at_small']:+d}", "constant",
                    info["queries_at_large"] == info["queries_at_small"]))  # fmt: skip
    if s["max"] >= 5:
        profiles[f"Scheduling ({s['median']:.2f} s)"] = _schedule_profile(ds)

    rows.append(Row(f"Section submit -> fresh scores via API, live worker ({len(submit.values)} submits)",
                    ms(submit.median), ms(submit.p95), "—", "—", "p95 < 1 s", submit.p95 < 1))  # fmt: skip
    if submit.p95 >= 1:
        profiles[f"Score recompute task ({ms(submit.p95)} p95 end to end)"] = _recompute_profile(ds)
    rows.append(Row("Case page (browser HTML), one request at a time", f"{page.p50_ms:.1f} ms", f"{page.p95_ms:.1f} ms",
                    f"{ping_c1.p50_ms:.1f} ms ping, same way", f"{page.p50_ms / ping_c1.p50_ms:.1f}x"))  # fmt: skip
    return rows, profiles


def _schedule_profile(ds) -> str:  # type: ignore[no-untyped-def]
    from bench import measure
    from cases.models import Case
    from meetings.scheduling import agenda_schedule

    def run() -> None:
        Case.objects.filter(board_id__in=ds.boards).update(status="ready", urgency="routine")
        agenda_schedule()

    return measure.profile_rolled_back(run)


def _recompute_profile(ds) -> str:  # type: ignore[no-untyped-def]
    from bench import measure
    from scoring.models import ScoreRun
    from scoring.services import case_scores_recompute

    case_id = ds.submit_case_ids[0]

    def run() -> None:
        ScoreRun.objects.filter(case_id=case_id).update(computed_key="")
        case_scores_recompute(case_id=case_id)

    return measure.profile_rolled_back(run)


def _report(text, ds, generation_s, elapsed, profiles, busy, api) -> str:  # type: ignore[no-untyped-def]
    from django.db import connection

    from bench import http, measure

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    wrk_version = subprocess.run([http.wrk_binary(), "-v"], capture_output=True, text=True).stdout.splitlines()[0]  # noqa: S603
    failures = sum(t.failures for t in api.values())
    lines = [
        "# Benchmark results (`make bench`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, PostgreSQL {pg_version}, {wrk_version.split(' [')[0]}; "
        f"{elapsed:.0f} s in all, of which {generation_s:.0f} s generating the data set.",
        "",
        text,
        "",
        "## Set-up",
        "",
        "- Stack: gunicorn 2 sync workers, DJANGO_DEBUG=0 (production settings via `bench.settings`, which adds "
        "only `/bench/ping/`), PostgreSQL database `tumourboard_bench`, Redis DB 14, one Celery worker "
        "(concurrency 1, queues default and pdf). User throttle raised to 1,000,000/minute.",
        f"- Data: {ds.counts['cases']:,} cases over 3 boards ({ds.counts['template_cases']} written through the "
        f"services, the rest bulk copies with their own scores computed by the pure scoring functions), "
        f"{ds.counts['lesions']:,} lesions, {ds.counts['scores']:,} score rows, {ds.counts['future_meetings']} future "
        f"meetings, {ds.counts['decisions']} finalised decisions with records; plus a board of "
        f"{ds.counts['small_board_cases']} cases for the query counts at 10 cases. See bench/data.py.",
        f"- HTTP: wrk, 1 thread, {measure.CONNECTIONS} connections, {measure.TRIALS} interleaved runs of "
        f"{measure.TRIAL_SECONDS} s per endpoint (median of the runs), token in the Authorization header; "
        f"the list walks pages 1 to 4, the detail {len(ds.detail_case_ids)} cases; "
        f"{failures} non-2xx or socket errors.",
        "- PDF and scheduling: pytest-benchmark in process (bench/inprocess.py); raw figures in "
        "bench/results/inprocess.json.",
        "",
    ]
    if busy:
        lines += [
            "## Other load during the run",
            "",
            "Other test runs were active on this machine while the benchmark ran, so absolute figures are "
            "lower and noisier than on an idle machine (ratios to the baselines measured in the same run are "
            "less affected):",
            "",
            *(f"- `{p[:160]}`" for p in sorted(set(busy))),
            "",
        ]
    if profiles:
        lines += ["## Profiles of missed budgets (pyinstrument, in process)", ""]
        for title, profile in profiles.items():
            lines += [f"### {title}", "", "```", profile, "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
