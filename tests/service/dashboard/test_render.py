"""Number and time filters of the dashboard templates."""

from __future__ import annotations

from datetime import UTC, datetime

from service.dashboard.render import human, pct, when


def test_human_uses_si_prefixes_and_units() -> None:
    assert human(None) == "–"
    assert human(12) == "12"
    assert human(1234567) == "1.23 M"
    assert human(4096, "B") == "4.1 kB"
    assert human(0.01234, "ms") == "0.01234 ms"


def test_pct_and_when() -> None:
    assert pct(12.345) == "12.3%" and pct(None) == "–"
    assert when(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02 03:04:05 UTC"
