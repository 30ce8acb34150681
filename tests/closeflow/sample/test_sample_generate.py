"""generate(): same seed, same bytes; a fresh HOME or an explicit overwrite; a summary."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from closeflow.sample import generate

MONDAY = dt.date(2026, 1, 5)


def _fingerprint(home: Path) -> dict[str, tuple[str, float | None]]:
    """sha256 of every file; the mtime too where it means something (when it arrived)."""
    out = {}
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        name = str(path.relative_to(home))
        arrived = name.startswith(("inbox/", "bank_inbox/"))
        mtime = path.stat().st_mtime if arrived else None
        out[name] = (hashlib.sha256(path.read_bytes()).hexdigest(), mtime)
    return out


def test_same_seed_gives_identical_files(sample, tmp_path: Path) -> None:
    calls = []
    generate(
        tmp_path / "again",
        start=sample.start,
        seed=sample.seed,
        days=sample.days,
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    assert _fingerprint(tmp_path / "again") == _fingerprint(sample.home)
    stages = [c[0] for c in calls]
    assert stages[0] == "company" and stages[-1] == "truth" and "documents" in stages
    assert ("documents", sample.summary.files, sample.summary.files) in calls


def test_another_seed_gives_another_company(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", start=MONDAY, seed=1, days=1)
    b = generate(tmp_path / "b", start=MONDAY, seed=2, days=1)
    suppliers = [(h / "company" / "suppliers.yml").read_bytes() for h in (a.home, b.home)]
    assert suppliers[0] != suppliers[1]


def test_summary_counts(sample) -> None:
    summary = sample.summary
    assert summary.start == sample.start
    assert summary.end == sample.start + dt.timedelta(days=sample.days)
    assert summary.expected_status == {
        "duplicate": 1,
        "extracted": summary.invoices,
        "quarantined": 2,
    }
    assert summary.statements["camt053"] == 10  # business days 5-16 January 2026
    assert sum(summary.bank_lines.values()) == len(sample.bank_lines)
    assert summary.as_dict()["documents"] == summary.documents


def test_refuses_to_mix_with_an_existing_sample(tmp_path: Path) -> None:
    generate(tmp_path, start=MONDAY, days=1)
    with pytest.raises(FileExistsError):
        generate(tmp_path, start=MONDAY, days=1)
    (tmp_path / "warehouse.duckdb").write_text("keep me")
    generate(tmp_path, start=MONDAY, days=1, seed=3, overwrite=True)
    assert (tmp_path / "warehouse.duckdb").read_text() == "keep me"


def test_months_and_days_windows(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, days=0)
    summary = generate(tmp_path / "w", start=dt.date(2026, 1, 31), days=2)
    assert summary.end == dt.date(2026, 2, 2)
