"""The one table of ``make bench``: rows any benchmark module can return.

Every row carries its figure, the reference measured in the same run and their ratio,
so a busy machine moves both and the ratio stays meaningful. A module that measures
something (``benchmarks/sends.py``, say) returns ``list[Row]``; ``benchmarks/run.py``
prints all rows as one table and writes it to ``benchmarks/RESULTS.md``.

``Row`` fields:

- ``name``: what was measured, e.g. ``GET /api/v1/profile/ (100 referrals)``.
- ``figure``: the measured value, in ``unit``.
- ``unit``: ``req/s``, ``sends/s``, ``sign-ins/s``, ``s`` ...
- ``reference``: the value it is compared with, measured in the same run, same unit
  (``None`` when there is nothing to compare with: the ratio prints as ``-``).
- ``reference_name``: what the reference is, e.g. ``bare JSON view``.
- ``higher_is_better``: whether a larger ``figure`` is better (throughput) or worse
  (a duration); the ratio is always ``figure / reference``.
- ``target``: the ratio the row must reach (at least, or at most when lower is better);
  ``None`` for none. The table says ``ok`` or ``MISSED``.
- ``bound``: for a figure judged on its own rather than by its ratio (the slowest ``503``
  of an overload, ``/livez`` at p99), the value it must stay under (or reach, when higher
  is better), in ``unit``; ``None`` for none.
- ``workers``, ``concurrency``, ``tool``: how it was measured (server processes, clients
  at once, ``wrk`` or ``python``).
- ``p50_ms``, ``p99_ms``: latency percentiles, ``None`` when not measured.
- ``errors``: answers that failed (connection errors, 5xx, unexpected statuses).
- ``note``: anything a reader needs to read the line right (how many rounds, etc.).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One line of the table (see the module docstring for each field)."""

    name: str
    figure: float
    unit: str
    reference: float | None = None
    reference_name: str = ""
    higher_is_better: bool = True
    target: float | None = None
    bound: float | None = None
    workers: int = 0
    concurrency: int = 0
    tool: str = ""
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int = 0
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """``figure / reference``, or ``None`` without a reference."""
        if self.reference is None or not self.reference:
            return None
        return self.figure / self.reference

    @property
    def verdict(self) -> str:
        """``ok`` / ``MISSED`` against ``target``, else ``bound``; empty without either."""
        ratio = self.ratio
        if self.target is not None and ratio is not None:
            met = ratio >= self.target if self.higher_is_better else ratio <= self.target
        elif self.bound is not None:
            met = self.figure >= self.bound if self.higher_is_better else self.figure < self.bound
        else:
            return ""
        return "ok" if met else "MISSED"


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render(rows: Sequence[Row]) -> str:
    """The rows as one Markdown table."""
    lines = [
        "| measured | workers | conc. | figure | reference | ratio | target | p50 ms | p99 ms "
        "| errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = row.ratio
        reference = (
            f"{_number(row.reference)} {row.unit} ({row.reference_name})"
            if row.reference is not None
            else "-"
        )
        target = "-"
        if row.target is not None:
            target = f"{'≥' if row.higher_is_better else '≤'} {row.target:.2f}x {row.verdict}"
        elif row.bound is not None:
            target = (
                f"{'≥' if row.higher_is_better else '<'} {_number(row.bound)} {row.unit} "
                f"{row.verdict}"
            )
        name = f"{row.name} [{row.tool}]" if row.tool else row.name
        if row.note:
            name = f"{name}: {row.note}"
        lines.append(
            f"| {name} | {row.workers or '-'} | {row.concurrency or '-'} "
            f"| {_number(row.figure)} {row.unit} | {reference} "
            f"| {'-' if ratio is None else f'{ratio:.2f}x'} | {target} "
            f"| {_number(row.p50_ms, 1)} | {_number(row.p99_ms, 1)} | {row.errors} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class Bench:
    """What ``benchmarks/run.py`` hands to a benchmark module's ``rows(bench)``.

    - ``env``: the service's environment (production settings, rate limits off), its
      database migrated and seeded. A module starts the servers it needs on it
      (``benchmarks.harness.server``), with settings of its own where it must: the server of
      the table's own rows is stopped by then, so its pool holds no database connections
      the module's servers need on a shared PostgreSQL.
    - ``workers``: worker processes per server.
    - ``seconds``: how long one timed run lasts.
    - ``rounds``: how many times each figure is measured (the table gives medians).
    """

    env: dict[str, str]
    workers: int
    seconds: int
    rounds: int
