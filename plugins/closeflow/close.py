"""The month-end close of one period: wait for its nights, its metrics, the period lock.

The close runs only when every night of the month has finished (`nights_missing`); it
computes the close metrics and writes the close report, and `lock_period` then locks the
period (closeflow.periods) so nothing writes into it any more. A closed period's close
is left as it is on a re-run; `reopen_period` opens it again, logged, and recomputes
its metrics.

The metrics are computed from the warehouse after the month's nightly runs: invoices
received, posted and touchless; what waits in review; bank lines matched; the
unreconciled amount; the trial balance check; and days to close (how many days after
month end the last posting into the period was made). One row per period in
raw.close_metrics, replaced on re-run.

How much of the posting needed no person, and how often that went wrong:

- auto-posted: an invoice whose first entry was made by one of the period's nightly
  posting runs with every line from a rule or a confident learned suggestion (rule_id
  set), and that never waited in the review queue (no `invoice` or `file` review item
  for it: what a person released from review is not automatic).
- corrected: an auto-posted invoice whose entry was changed later: a controller's
  correction recorded in raw.posting_corrections (`closeflow post correct`), a `manual`
  or `adjustment` journal entry whose source_id is the invoice, or the invoice posted
  again by another run to a different set of accounts (a re-post after review).
- touchless = auto-posted and not corrected; touchless_rate = touchless / invoices
  received in the period (extracted or sent to review by the period's ingest runs), so
  unreadable files and invoices waiting in review count against it.
- wrong_posting_rate = corrected / auto-posted: of what the automation posted on its
  own, the share a person had to fix.

And how good the learned suggestions would be: suggestion_holdout_accuracy is the share
of held-back approved postings (through the period's end) whose account the classifier,
trained on the rest, puts first (closeflow.posting.suggest.holdout_accuracy), over
suggestions_held_back lines; null when the history has fewer than two accounts.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from closeflow import periods, run_lock
from closeflow.close_report import write_close_report
from closeflow.config import ConfigError
from closeflow.failpoints import failpoint
from closeflow.match_state import standing
from closeflow.money import round_money, round_rate
from closeflow.report import unreconciled_amount, window_reconciliation
from closeflow.runtime import Runtime, Window, holds_connection
from closeflow.steps import StepSummary, warehouse_step

log = logging.getLogger(__name__)


def _ratio(n: int, d: int) -> Decimal:
    return round_rate(Decimal(n) / Decimal(d)) if d else Decimal(0)


_AUTOMATION = """
WITH inv AS (
    SELECT source_id, run_id, account, rule_id FROM {raw}.journal_lines
    WHERE source_type = 'invoice'
), first_post AS (
    SELECT source_id, min(run_id) AS run_id FROM inv WHERE run_id LIKE 'post:%'
    GROUP BY source_id
), auto AS (
    SELECT f.source_id
    FROM first_post f JOIN inv l ON l.source_id = f.source_id AND l.run_id = f.run_id
    WHERE f.run_id >= :post_lo AND f.run_id < :post_hi
      AND NOT EXISTS (
          SELECT 1 FROM {raw}.review_queue q
          WHERE q.item_type IN ('invoice', 'file') AND q.item_id = f.source_id
      )
    GROUP BY f.source_id
    HAVING count(*) FILTER (WHERE l.rule_id IS NULL) = 0
), runs AS (
    SELECT source_id, count(DISTINCT run_id) AS n FROM inv GROUP BY source_id
), account_runs AS (
    SELECT source_id, account, count(DISTINCT run_id) AS n FROM inv
    GROUP BY source_id, account
), corrected AS (
    SELECT source_id FROM {raw}.journal_lines WHERE source_type IN ('manual', 'adjustment')
    UNION
    -- a controller moved some of its lines to another account (closeflow post correct)
    SELECT invoice_id FROM {raw}.posting_corrections
    UNION
    -- posted again by another run, and some account is not in every one of its entries
    SELECT a.source_id FROM account_runs a JOIN runs r ON r.source_id = a.source_id
    WHERE r.n > 1 AND a.n < r.n
)
SELECT count(*) AS auto_posted, count(c.source_id) AS corrected
FROM auto a LEFT JOIN (SELECT DISTINCT source_id FROM corrected) c
    ON c.source_id = a.source_id
"""


def _automation(wh, raw: str, keys: dict) -> tuple[int, int]:  # noqa: ANN001
    """Invoices auto-posted by the period's posting runs, and how many of them were
    corrected later (the module docstring has the definitions)."""
    [row] = wh.query(_AUTOMATION.format(raw=raw), keys).to_pylist()
    return int(row["auto_posted"] or 0), int(row["corrected"] or 0)


def suggestion_accuracy(rt: Runtime, before_run: str, fraction: float = 0.2) -> dict:
    """Held-back accuracy of the learned suggestions on the warehouse's approved postings
    of the runs before `before_run`, at the rules' auto-post threshold: held_back,
    right, accuracy (a Decimal rate, None without a model), auto_posted,
    auto_posted_right, wrong_postings, model_version, history (lines), threshold."""
    from closeflow.posting.suggest import history_from_ledger, holdout_accuracy

    rules = rt.company.posting_rules()
    threshold = rules.suggestions.auto_post_above
    history = history_from_ledger(rt, rules, before_run=before_run)
    out = {"history": history.num_rows, "threshold": threshold, "fraction": fraction}
    if history.num_rows == 0:
        return out | {"held_back": 0, "accuracy": None}
    got = holdout_accuracy(history, fraction=fraction, threshold=threshold)
    if got["accuracy"] is not None:
        got["accuracy"] = _ratio(got["right"], got["held_back"])
    return out | got


class CloseNotReady(RuntimeError):
    """The month cannot close yet: nights of it have not run."""


def nights_missing(rt: Runtime, period: str) -> list[dt.date]:
    """The nights of `period` whose nightly work has not finished: every night from the
    month's first day (or from go-live, company.yml's `go_live`, else the first night
    closeflow ran, when later) to its last, whose ledger run's last step (the report)
    has not succeeded (or been left as it was, in a closed period)."""
    from closeflow.steps import go_live, step_statuses

    window = Window.month(period, rt.tz)
    live = go_live(rt)
    first = max(window.start, live) if live else window.start
    last = window.end - dt.timedelta(days=1)
    done = step_statuses(rt, "report", first, last)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return [d for d in days if done.get(d) not in ("success", "skipped")]


def _days(days: list[dt.date]) -> str:
    shown = ", ".join(d.isoformat() for d in days[:5])
    return shown + (f" and {len(days) - 5} more" if len(days) > 5 else "")


@warehouse_step("close")
def close_period(rt: Runtime, window: Window, computed_at: dt.datetime | None = None) -> dict:
    """Compute and store the close metrics of the month `window`; write the close report.

    Every night of the month must have finished first (CloseNotReady names those that
    have not). A closed period is left as it is: its metrics stay what the close wrote."""
    missing = nights_missing(rt, window.key)
    if missing:
        raise CloseNotReady(
            f"the close of {window.key} waits for {len(missing)} night(s) not finished yet: "
            f"{_days(missing)}"
        )
    return CloseSummary(window.key, close_metrics(rt, window.key, computed_at))


@dataclass
class CloseSummary:
    period: str
    row: dict

    @property
    def counts(self) -> dict:
        return {k: v for k, v in self.row.items() if k not in ("computed_at", "run_id")}

    def line(self) -> str:
        return f"close {self.period}: " + ", ".join(f"{k} {v}" for k, v in self.counts.items())


@warehouse_step("lock", respects_lock=False)
def lock_period(rt: Runtime, window: Window, by: str = "closeflow month_end_close") -> StepSummary:
    """Lock the month `window` (after its close): nothing writes into it any more."""
    event, new = periods.lock(rt, window.key, by, window.run_key("close"))
    what = "locked" if new else "already locked"
    summary = StepSummary(
        "lock",
        window.key,
        {"period": window.key, what: f"by {event.acted_by} at {event.acted_at:%Y-%m-%d %H:%M} UTC"},
    )
    log.info(summary.line())
    return summary


def reopen_period(rt: Runtime, period: str, by: str, reason: str) -> dict:
    """Reopen `period` (logged with who and why) and recompute its close metrics, which
    now describe an open period again until the next close locks it."""
    with (
        run_lock.hold(rt.warehouse, f"reopen {period}", wait=rt.lock_wait),
        rt.warehouse.connected(),
    ):
        event = periods.reopen(rt, period, by, reason)
        row = close_metrics(rt, period)
    log.warning("period %s reopened by %s: %s", period, by, reason)
    return {"event": event, "metrics": row}


@holds_connection
def close_metrics(rt: Runtime, period: str, computed_at: dt.datetime | None = None) -> dict:
    """Compute and store the close metrics of `period` (YYYY-MM); write the close report."""
    window = Window.month(period, rt.tz)
    raw = rt.warehouse.schema
    wh = rt.warehouse
    steps = ("ingest", "bank", "post", "reconcile")
    day_keys = {
        f"{s}_{b}": f"{s}:{d.isoformat()}"
        for s in steps
        for b, d in (("lo", window.start), ("hi", window.end))
    }

    def in_period(step: str) -> str:
        """Rows written by the step's nightly runs for the days of the period."""
        return f"(run_id >= :{step}_lo AND run_id < :{step}_hi)"

    manifest = wh.query(
        f"SELECT status, count(*) AS n FROM {raw}.file_manifest WHERE {in_period('ingest')} "
        f"GROUP BY status",
        day_keys,
    ).to_pylist()
    states = {r["status"]: r["n"] for r in manifest}
    received = states.get("extracted", 0) + states.get("needs_review", 0)
    posted = (
        wh.scalar(
            f"SELECT count(DISTINCT source_id) FROM {raw}.journal_lines "
            f"WHERE source_type = 'invoice' AND {in_period('post')}",
            day_keys,
        )
        or 0
    )
    auto_posted, corrected = _automation(wh, raw, day_keys)
    touchless = auto_posted - corrected
    review_open = (
        wh.scalar(
            f"SELECT count(*) FROM {raw}.review_queue q WHERE resolved_at IS NULL AND ("
            + " OR ".join(in_period(s).replace("run_id", "created_run_id") for s in steps)
            + ") AND NOT (q.item_type = 'bank_line' AND ("  # a later night explained it
            f"EXISTS (SELECT 1 FROM {raw}.matches m WHERE m.bank_line_id = q.item_id "
            f"AND {standing('m', raw)}) OR "
            f"EXISTS (SELECT 1 FROM {raw}.journal_lines j "
            f"WHERE j.source_type IN ('bank_fee', 'bank_rule') "
            f"AND j.source_id = q.item_id)))",
            day_keys,
        )
        or 0
    )
    lines = window_reconciliation(rt, window)
    explained = [r for r in lines if r["outcome"] != "unmatched"]
    unreconciled = unreconciled_amount(rt, lines)
    tb_diff = wh.scalar(
        f"SELECT COALESCE(SUM(amount), 0) FROM {raw}.journal_lines WHERE period = :p", {"p": period}
    ) or Decimal(0)
    last_run = wh.scalar(
        f"SELECT MAX(substr(run_id, strpos(run_id, ':') + 1, 10)) FROM {raw}.journal_lines "
        f"WHERE period = :p",
        {"p": period},
    )
    # the suggestions as a model trained on the period's approved postings would make them
    try:
        accuracy = suggestion_accuracy(rt, before_run=f"post:{window.end.isoformat()}")
    except ConfigError as exc:  # the posting step fails on it loudly; the close goes on
        log.warning("suggestion accuracy not measured: %s", exc)
        accuracy = {"accuracy": None, "held_back": None}
    last_day = window.end - dt.timedelta(days=1)
    days_to_close = max(0, (dt.date.fromisoformat(last_run) - last_day).days) if last_run else 0
    row = {
        "period": period,
        "invoices_received": received,
        "invoices_posted": posted,
        "invoices_touchless": touchless,
        "touchless_rate": _ratio(touchless, received),
        "invoices_auto_posted": auto_posted,
        "invoices_corrected": corrected,
        "wrong_posting_rate": _ratio(corrected, auto_posted),
        "review_queue_open": review_open,
        "files_quarantined": states.get("quarantined", 0),
        "bank_lines": len(lines),
        "bank_lines_matched": len(explained),
        "match_rate": _ratio(len(explained), len(lines)),
        "unreconciled_amount": unreconciled,
        "trial_balance_difference": round_money(Decimal(tb_diff)),
        "days_to_close": days_to_close,
        "computed_at": computed_at or dt.datetime.now(dt.UTC),
        "run_id": window.run_key("close"),
        "suggestion_holdout_accuracy": accuracy["accuracy"],
        "suggestions_held_back": accuracy["held_back"],
    }
    with wh.transaction() as t:
        t.replace("close_metrics", [row], "period = :p", {"p": period})
        failpoint(f"close:{period}")
    write_close_report(rt.reports / "close" / period, rt.company.company.name, period, row)
    log.info(
        "close %s: %d invoices received, %d posted (touchless %s, wrong postings %s), "
        "%d bank lines, match rate %s, %d open in review, trial balance difference %s",
        period,
        received,
        posted,
        row["touchless_rate"],
        row["wrong_posting_rate"],
        len(lines),
        row["match_rate"],
        review_open,
        row["trial_balance_difference"],
    )
    return row
