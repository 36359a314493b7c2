"""``make bench``: start the real service and print one table of figures beside references.

Every line has the figure, the reference measured in the same run and their ratio: the
machine is shared and noisy, so each route is measured in several short rounds
interleaved with its reference, and the table gives the medians. Routes measured with
wrk are compared with the bare JSON view measured by wrk, routes of the Python generator
(single-use refresh tokens) with the bare view measured by the Python generator: a ratio
is the route's own cost, not the difference between two load tools.

The table goes to stdout and, with the date and the machine, to ``benchmarks/RESULTS.md``.
Other benchmark modules add rows: ``benchmarks/sends.py``, when present, is imported and
its ``rows(bench: Bench) -> list[Row]`` joins the table (see ``benchmarks/table.py``).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import statistics
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import loadgen
from benchmarks.harness import (
    DATABASE,
    REDIS_URL,
    Sample,
    outcome_sample,
    prepare_storage,
    seed,
    server,
    service_env,
    wrk_sample,
)
from benchmarks.table import Bench, Row, render

RESULTS = Path(__file__).with_name("RESULTS.md")
BARE = "/api/bench/bare"
PROFILE_TARGET = 0.5  # of the bare JSON view's requests per second, same server and workers
EXTRA_MODULES = ("benchmarks.sends",)


def _median_row(
    name: str, samples: list[Sample], *, reference: list[Sample] | None, **fields: object
) -> Row:
    """A row of the medians of ``samples`` against the median of ``reference``."""
    return Row(
        name=name,
        figure=statistics.median(s.rps for s in samples),
        unit="req/s",
        reference=statistics.median(s.rps for s in reference) if reference else None,
        p50_ms=statistics.median(s.p50_ms for s in samples),
        p99_ms=statistics.median(s.p99_ms for s in samples),
        errors=sum(s.errors for s in samples),
        note=f"median of {len(samples)}",
        **fields,  # type: ignore[arg-type]
    )


def measure_reads(
    base: str, access: dict[str, str], *, workers: int, seconds: int, rounds: int, connections: int
) -> list[Row]:
    """The read routes with wrk, each round beside a run of the bare view."""
    routes: dict[str, tuple[str, dict[str, str]]] = {"bare": (BARE, {})}
    for count, token in access.items():
        routes[count] = ("/api/v1/profile/", {"Authorization": f"Bearer {token}"})
    routes["healthz"] = ("/healthz", {})
    samples: dict[str, list[Sample]] = {key: [] for key in routes}
    for path, headers in routes.values():  # warm the pools and the code paths
        wrk_sample(f"{base}{path}", seconds=1, connections=connections, headers=headers)
    keys = list(routes)
    for number in range(rounds):
        # Each round starts one route later, so no route always follows the same one.
        for key in keys[number % len(keys) :] + keys[: number % len(keys)]:
            path, headers = routes[key]
            samples[key].append(
                wrk_sample(
                    f"{base}{path}", seconds=seconds, connections=connections, headers=headers
                )
            )
    how: dict[str, object] = {"workers": workers, "concurrency": connections, "tool": "wrk"}
    bare = samples.pop("bare")
    rows = [_median_row(f"GET {BARE} (bare JSON view)", bare, reference=None, **how)]
    versus = {"reference_name": "bare, wrk", **how}
    for count in access:
        rows.append(
            _median_row(
                f"GET /api/v1/profile/ ({count} referrals)",
                samples.pop(count),
                reference=bare,
                target=PROFILE_TARGET,
                **versus,
            )
        )
    rows.append(
        _median_row("GET /healthz (database + cache)", samples["healthz"], reference=bare, **versus)
    )
    return rows


def measure_refresh(
    base: str, refresh: list[str], *, workers: int, rounds: int, concurrency: int
) -> list[Row]:
    """Token refresh (each token is spent once) beside the bare view, both from Python."""
    per_round = len(refresh) // rounds
    bare: list[Sample] = []
    refreshed: list[Sample] = []
    for number in range(rounds):
        bodies = [
            json.dumps({"refresh": token}).encode()
            for token in refresh[number * per_round : (number + 1) * per_round]
        ]
        bare.append(
            outcome_sample(
                loadgen.closed_loop(
                    f"{base}{BARE}", concurrency=concurrency, count=per_round, max_seconds=60
                )
            )
        )
        refreshed.append(
            outcome_sample(
                loadgen.closed_loop(
                    f"{base}/api/v1/auth/token/refresh/",
                    concurrency=concurrency,
                    count=per_round,
                    max_seconds=60,
                    method="POST",
                    bodies=bodies,
                )
            )
        )
    how: dict[str, object] = {"workers": workers, "concurrency": concurrency, "tool": "python"}
    return [
        _median_row(f"GET {BARE} (bare JSON view)", bare, reference=None, **how),
        _median_row(
            "POST /api/v1/auth/token/refresh/ (rotation)",
            refreshed,
            reference=bare,
            reference_name="bare, python",
            **how,
        ),
    ]


def extra_rows(bench: Bench) -> list[Row]:
    """Rows of the other benchmark modules that are present."""
    rows: list[Row] = []
    for name in EXTRA_MODULES:
        if importlib.util.find_spec(name) is None:
            continue
        make: Callable[[Bench], list[Row]] = importlib.import_module(name).rows
        rows.extend(make(bench))
    return rows


def machine() -> str:
    """The machine the figures are from."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}: {os.cpu_count()} CPUs{f' ({model})' if model else ''}, " + (
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def write_results(table: str, *, header: str, footer: str) -> None:
    """The table with the date and the machine, in ``benchmarks/RESULTS.md``."""
    RESULTS.write_text(
        "# Benchmark results\n\n"
        "Written by `make bench` (`benchmarks/run.py`); every run replaces this file.\n\n"
        f"{header}\n\n{table}\n\n{footer}\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--seconds", type=int, default=5, help="length of each timed run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each figure (medians)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--referrals", default="100,1000", help="profiles to read")
    parser.add_argument("--refresh-tokens", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32, help="Python generator clients")
    args = parser.parse_args()

    env = service_env()
    started = datetime.now(UTC)
    load_before = os.getloadavg()[0]
    print(f"Preparing database {DATABASE} and Redis {REDIS_URL} ...", flush=True)
    prepare_storage(env)
    counts = [int(n) for n in args.referrals.split(",")]
    tokens = seed(env, referrals=counts, refresh_tokens=args.refresh_tokens)
    access = tokens["access"]
    refresh = tokens["refresh"]
    assert isinstance(access, dict)
    assert isinstance(refresh, list)

    print(f"Measuring with {args.workers} workers ...", flush=True)
    with server(env, workers=args.workers) as running:
        base = running.base_url
        rows = measure_reads(
            base,
            access,
            workers=args.workers,
            seconds=args.seconds,
            rounds=args.rounds,
            connections=args.connections,
        )
        rows += measure_refresh(
            base, refresh, workers=args.workers, rounds=args.rounds, concurrency=args.concurrency
        )
    rows += extra_rows(
        Bench(env=env, workers=args.workers, seconds=args.seconds, rounds=args.rounds)
    )

    table = render(rows)
    header = (
        f"{started:%Y-%m-%d %H:%M} UTC on {machine()}; load average {load_before:.1f} before "
        f"the run, {os.getloadavg()[0]:.1f} after (the load generator shares the machine)."
    )
    footer = (
        "Each figure is the median of its rounds; its reference is the median of the "
        "reference's rounds, interleaved with it in the same run. The servers start as in "
        f"production (`python -m config.serve`: uvicorn, {args.workers} workers), "
        "`DEBUG=false`, PostgreSQL (pooled) and Redis; rate limits are off but in the "
        "send-code and sign-in rows (on, budgets raised for the run)."
    )
    print(f"\n{header}\n\n{table}\n\n{footer}")
    write_results(table, header=header, footer=footer)
    print(f"\nWritten to {RESULTS}")
    failed = [row for row in rows if row.errors]
    if failed:
        print("\nErrors in: " + ", ".join(f"{row.name} ({row.errors})" for row in failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
