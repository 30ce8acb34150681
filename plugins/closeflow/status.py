"""`closeflow status`: the last nights at a glance, for the engineer on call.

One row per night, read from the step log (raw.step_runs: what each step's latest run
of the night did, in numbers) and the alerts folder: whether the night is done (its
report written), which step failed or is running, how long its steps took, the files
received, statement lines imported, invoices posted, bank lines matched, what went to
review, and the alerts raised for it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from closeflow.runtime import Runtime

NIGHT_STEPS = ("ingest", "bank", "post", "reconcile", "marts", "report")


@dataclass
class NightStatus:
    """What the steps of one night did (their latest runs)."""

    night: dt.date
    steps: dict[str, str] = field(default_factory=dict)  # step -> status
    seconds: float = 0.0  # the steps' run time, added up
    files: int = 0
    statement_lines: int = 0
    posted: int = 0
    matched: int = 0
    to_review: int = 0
    alerts: int = 0

    @property
    def state(self) -> str:
        """done | failed: <step> | running: <step> | skipped | partial (missing steps)."""
        for wanted in ("failed", "running"):
            hit = [s for s in NIGHT_STEPS if self.steps.get(s) == wanted]
            if hit:
                return f"{wanted}: {hit[0]}"
        if self.steps and all(v == "skipped" for v in self.steps.values()):
            return "skipped (closed period)"
        if self.steps.get("report") in ("success", "skipped"):
            return "done"
        missing = [s for s in NIGHT_STEPS if s not in self.steps]
        return "partial: " + ", ".join(missing) + " not run"


def _count(summary: dict, *keys: str) -> int:
    total = 0
    for key in keys:
        value = summary.get(key)
        if isinstance(value, int):
            total += value
    return total


def _alerts_by_night(home: Path) -> dict[str, int]:
    """How many alerts each night raised (any kind), by the night their record names."""
    out: dict[str, int] = defaultdict(int)
    for path in sorted((home / "alerts").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            night = record.get("night") or record.get("window") or ""
            if not night and ":" in str(record.get("run_id") or ""):
                night = str(record["run_id"]).split(":", 1)[1]
            out[str(night)[:10]] += 1
    return out


def night_statuses(rt: Runtime, nights: int = 7) -> list[NightStatus]:
    """The last `nights` nights the step log knows, newest first."""
    raw = rt.warehouse.schema
    with rt.warehouse.connected():
        rows = rt.warehouse.query(
            f"SELECT step, window_start, status, started_at, finished_at, summary "
            f"FROM {raw}.step_runs WHERE window_end = window_start + 1 "
            f"AND window_start IN (SELECT DISTINCT window_start FROM {raw}.step_runs "
            f"WHERE window_end = window_start + 1 ORDER BY window_start DESC LIMIT :n)",
            {"n": nights},
        ).to_pylist()
    alerts = _alerts_by_night(rt.home)
    by_night: dict[dt.date, NightStatus] = {}
    for r in rows:
        st = by_night.setdefault(r["window_start"], NightStatus(r["window_start"]))
        st.steps[r["step"]] = r["status"]
        if r["started_at"] and r["finished_at"]:
            st.seconds += (r["finished_at"] - r["started_at"]).total_seconds()
        summary = json.loads(r["summary"] or "{}")
        if r["step"] == "ingest":
            st.files += _count(summary, "extracted", "needs_review", "quarantined", "duplicate")
            st.to_review += _count(summary, "needs_review")
        elif r["step"] == "bank":
            st.statement_lines += _count(summary, "lines")
        elif r["step"] == "post":
            st.posted += _count(summary, "invoices posted")
            st.to_review += _count(summary, "to review")
        elif r["step"] == "reconcile":
            st.matched += _count(summary, "lines matched")
            st.to_review += _count(summary, "to review")
    for st in by_night.values():
        st.alerts = alerts.get(st.night.isoformat(), 0)
    return sorted(by_night.values(), key=lambda s: s.night, reverse=True)


def status_lines(statuses: list[NightStatus]) -> list[str]:
    """The nights as a fixed-width table."""
    if not statuses:
        return ["no night has run yet (the step log is empty)"]
    head = (
        f"{'night':<10}  {'state':<24}  {'time':>7}  {'files':>5}  {'lines':>5}  "
        f"{'posted':>6}  {'matched':>7}  {'review':>6}  {'alerts':>6}"
    )
    out = [head, "-" * len(head)]
    for s in statuses:
        minutes, seconds = divmod(round(s.seconds), 60)
        out.append(
            f"{s.night.isoformat():<10}  {s.state[:24]:<24}  {minutes:>4}:{seconds:02d}  "
            f"{s.files:>5}  {s.statement_lines:>5}  {s.posted:>6}  {s.matched:>7}  "
            f"{s.to_review:>6}  {s.alerts:>6}"
        )
    return out
