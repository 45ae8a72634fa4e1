"""HTTP load with wrk (https://github.com/wg/wrk): throughput and latency of one set of paths."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "wrk.lua"


@dataclass(frozen=True, slots=True)
class Load:
    """One wrk run: requests per second and latency percentiles in milliseconds."""

    rps: float
    p50_ms: float
    p95_ms: float
    requests: int
    failures: int


@dataclass(frozen=True, slots=True)
class Trials:
    """Several runs of the same load: the median of each figure across runs."""

    runs: tuple[Load, ...]

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.runs)

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs)

    @property
    def p95_ms(self) -> float:
        return statistics.median(r.p95_ms for r in self.runs)

    @property
    def failures(self) -> int:
        return sum(r.failures for r in self.runs)


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk")
    return found


def load(
    base_url: str,
    paths: Sequence[str],
    *,
    seconds: int,
    connections: int,
    auth: str = "",
    cookie: str = "",
) -> Load:
    """GET `paths` in turn from `base_url` for `seconds` over `connections` connections (gunicorn's
    sync workers close each after its response; wrk reconnects). One wrk thread: on two cores the
    load generator must not starve the server."""
    with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as listing:
        listing.write("\n".join(paths) + "\n")
    env = {**os.environ, "BENCH_PATHS": listing.name, "BENCH_AUTH": auth, "BENCH_COOKIE": cookie}
    try:
        out = subprocess.run(  # noqa: S603 (fixed arguments, our own script)
            [wrk_binary(), "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout=10s", "-s", str(SCRIPT), base_url],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        Path(listing.name).unlink()
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    return Load(
        rps=figures["requests"] / (figures["duration_us"] / 1e6),
        p50_ms=figures["p50_us"] / 1000,
        p95_ms=figures["p95_us"] / 1000,
        requests=figures["requests"],
        failures=figures["non_2xx"] + figures["socket_errors"],
    )
