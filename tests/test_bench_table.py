"""The ``make bench`` table: every line shows its figure, its reference and their ratio."""

from __future__ import annotations

from benchmarks.table import Row, render


def test_a_row_compares_its_figure_with_its_reference():
    fast = Row(name="profile", figure=300, unit="req/s", reference=600, target=0.5)
    slow = Row(name="profile", figure=200, unit="req/s", reference=600, target=0.5)
    shorter = Row(name="burst", figure=2, unit="s", reference=8, higher_is_better=False, target=0.5)

    assert (fast.ratio, fast.verdict) == (0.5, "ok")
    assert slow.verdict == "MISSED"
    assert (shorter.ratio, shorter.verdict) == (0.25, "ok")
    assert Row(name="bare", figure=600, unit="req/s").ratio is None


def test_the_table_has_one_line_per_row_with_figure_reference_and_ratio():
    rows = [
        Row(name="GET /bare", figure=640, unit="req/s", workers=2, concurrency=32, tool="wrk"),
        Row(
            name="GET /profile",
            figure=330,
            unit="req/s",
            reference=640,
            reference_name="bare, wrk",
            target=0.5,
            p50_ms=90.5,
            p99_ms=310.25,
        ),
    ]

    lines = render(rows).splitlines()

    assert len(lines) == 2 + len(rows)
    assert lines[0].startswith("| measured |")
    assert "| 640 req/s | - | - |" in lines[2]
    assert "640 req/s (bare, wrk)" in lines[3]
    assert "0.52x" in lines[3]
    assert "ok" in lines[3]
    assert "| 90.5 | 310.2 |" in lines[3]


def test_a_figure_without_a_reference_is_judged_by_its_bound():
    fast = Row(name="slowest 503", figure=420, unit="ms", higher_is_better=False, bound=1000)
    slow = Row(name="slowest 503", figure=1000, unit="ms", higher_is_better=False, bound=1000)

    assert (fast.ratio, fast.verdict) == (None, "ok")
    assert slow.verdict == "MISSED"
    assert "| < 1,000 ms ok |" in render([fast])
    assert "| < 1,000 ms MISSED |" in render([slow])
