"""The nightly posting of the invoices a night took: the company's rules (and learned
suggestions), with the corrections a controller made since, into balanced journal
entries that replace what the night's posting (`post:<day>`) wrote before. Invoices dated
in a closed period post to the first open one."""

from __future__ import annotations

import logging

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from closeflow.failpoints import failpoint
from closeflow.opening import RUN_PREFIX as OPENING_RUN
from closeflow.opening import opening_journal
from closeflow.periods import PeriodLocks, period_locks
from closeflow.posting import post_invoices
from closeflow.posting.engine import PostingResult
from closeflow.posting.rules import Condition, Rule, Then
from closeflow.runtime import Runtime, Window
from closeflow.schemas import JOURNAL_LINES
from closeflow.steps import StepSummary, warehouse_step

log = logging.getLogger(__name__)


def sync_accounts(rt: Runtime) -> int:
    rows = [
        {"account": a.code, "account_name": a.name, "account_type": a.type}
        for a in rt.company.chart.accounts
    ]
    with rt.warehouse.transaction() as t:
        return t.replace("accounts", rows, "TRUE")


def night_batch(
    rt: Runtime, window: Window, invoice_id: str | None = None
) -> tuple[pa.Table, pa.Table]:
    """The extracted invoices the window's ingest run took, and their lines (with
    `invoice_id`, only that invoice)."""
    raw = rt.warehouse.schema
    params = {"ingest": window.run_key("ingest"), "inv": invoice_id}
    one = " AND i.invoice_id = :inv" if invoice_id else ""
    invoices = rt.warehouse.query(
        f"SELECT i.*, m.source_uri FROM {raw}.invoices i JOIN {raw}.file_manifest m "
        f"ON m.file_sha256 = i.invoice_id AND m.run_id = i.run_id AND m.status = i.status "
        f"WHERE i.run_id = :ingest AND i.status = 'extracted'{one}",
        params,
    )
    mine = f"SELECT invoice_id FROM {raw}.invoices WHERE run_id = :ingest"
    where = f"invoice_id IN ({mine})" + (" AND invoice_id = :inv" if invoice_id else "")
    return invoices, rt.warehouse.read_table("invoice_lines", where, params)


def suggester_for(rt: Runtime, rules, run_key: str):  # noqa: ANN001, ANN202
    """The learned suggester as the posting run `run_key` trains it, or None."""
    if not rules.suggestions.enabled:
        return None
    from closeflow.posting.suggest import Suggester, history_from_ledger

    history = history_from_ledger(rt, rules, before_run=run_key)  # earlier nights only
    return Suggester.train(history, rules.suggestions.auto_post_above)


@warehouse_step("post")
def post(rt: Runtime, window: Window) -> StepSummary:
    """Post the invoices ingested in the window with the company's rules (and the
    corrections a controller made to their entries since), and the opening balance sheet
    while its period is open (closeflow.opening)."""
    cfg = rt.company
    rules = cfg.posting_rules()  # fails loudly, names line
    sync_accounts(rt)
    run_key = window.run_key("post")
    raw = rt.warehouse.schema
    invoices, lines = night_batch(rt, window)
    suggester = suggester_for(rt, rules, run_key)
    corrections = latest_corrections(
        rt,
        f"invoice_id IN (SELECT invoice_id FROM {raw}.invoices WHERE run_id = :ingest)",
        {"ingest": window.run_key("ingest")},
    )
    locks = period_locks(rt)
    result = post_with_corrections(
        rt, rules, invoices, lines, run_key, suggester, corrections, locks=locks
    )
    opening, opening_note = opening_journal(rt, window, locks)
    with rt.warehouse.transaction() as t:
        t.replace("journal_lines", result.journal, "run_id = :r", {"r": run_key})
        if opening is not None:
            t.replace("journal_lines", opening, "run_id LIKE :o", {"o": OPENING_RUN + "%"})
        t.replace("review_queue", result.review, "created_run_id = :r", {"r": run_key})
        failpoint(f"post:{window.key}")
    summary = StepSummary(
        "post",
        window.key,
        {
            "invoices read": invoices.num_rows,
            "invoices posted": len(result.posted_ids),
            "journal lines": result.journal.num_rows,
            "to review": len(result.review),
            "rules version": rules.content_hash,
            "opening balances": opening_note,
        },
    )
    log.info(summary.line())
    return summary


class _CorrectedLines:
    """The engine's hook for what no rule decides (its `suggester` slot): after the
    rules and the learned suggester (if any) ran, the lines a controller corrected go
    to the corrected account, marked `corrected:<correction id>`; the rest of the rule's
    actions (cost center, project, tax code) stay. A corrected invoice needs no further
    approval: a person decided it.

    `targets[row]` holds, for invoice `row` of the batch, (line number, rule index) per
    corrected line, or (None, rule index) for the whole invoice (also an invoice posted
    as one line, which has no line numbers)."""

    def __init__(self, inner, targets: dict[int, list[tuple]], rules: list) -> None:  # noqa: ANN001
        self.inner, self.targets, self._rules = inner, targets, rules
        self._top: dict = {}

    @property
    def top(self) -> dict:
        return self.inner.top if self.inner is not None else self._top

    @top.setter
    def top(self, value: dict) -> None:
        if self.inner is not None:
            self.inner.top = value
        self._top = value

    def pseudo_rules(self) -> list:
        return (self.inner.pseudo_rules() if self.inner is not None else []) + self._rules

    def apply(self, taken: dict, lines: pa.Table, invoices: pa.Table, inv_row, n_rules: int):  # noqa: ANN001, ANN201
        if self.inner is not None:
            taken = self.inner.apply(taken, lines, invoices, inv_row, n_rules)
        base = n_rules + (len(self.inner.pseudo_rules()) if self.inner is not None else 0)
        line_no = lines["line_no"].to_numpy(zero_copy_only=False)
        for row, wanted in self.targets.items():
            rows = np.flatnonzero(inv_row == row)
            taken["approval"][rows] = -1
            for number, rule in wanted:
                hit = rows if number is None else rows[line_no[rows] == number]
                taken["account"][hit] = base + rule
                taken["final"][hit] = base + rule
        return taken


def latest_corrections(rt: Runtime, where: str, params: dict) -> dict[str, dict[int, dict]]:
    """Per invoice, per line number, the latest correction (raw.posting_corrections)."""
    rows = rt.warehouse.read_table(
        "posting_corrections", f"{where} ORDER BY corrected_at, correction_id", params
    ).to_pylist()
    out: dict[str, dict[int, dict]] = {}
    for r in rows:
        out.setdefault(r["invoice_id"], {})[r["line_no"]] = r
    return out


def post_with_corrections(
    rt: Runtime,
    rules,  # noqa: ANN001
    invoices: pa.Table,
    lines: pa.Table,
    run_key: str,
    suggester,  # noqa: ANN001
    corrections: dict[str, dict[int, dict]],
    explain: bool = False,
    locks: PeriodLocks | None = None,
):  # noqa: ANN201
    """Post a batch as the night does, the corrected invoices with their corrections:
    the same entries whenever it runs. Invoices dated in a closed period post to the
    first open one (`locks`, default: the warehouse's)."""
    cfg = rt.company
    locks = locks or period_locks(rt)
    args = (rules, cfg.fx, cfg.company.functional_currency, run_key, locks.closed_through)
    ids = [i for i in invoices["invoice_id"].to_pylist() if i in corrections]
    if not ids:
        return post_invoices(invoices, lines, *args, suggester=suggester, explain=explain)
    value_set = pa.array(ids, pa.string())
    inv_mask = pc.is_in(invoices["invoice_id"], value_set=value_set)
    ln_mask = pc.is_in(lines["invoice_id"], value_set=value_set)
    plain = post_invoices(
        invoices.filter(pc.invert(inv_mask)),
        lines.filter(pc.invert(ln_mask)),
        *args,
        suggester=suggester,
        explain=explain,
    )
    fixed_inv, fixed_ln = invoices.filter(inv_mask), lines.filter(ln_mask)
    pseudo, rule_of = [], {}
    targets: dict[int, list[tuple]] = {}
    never = Condition(supplier_id=["\x00corrections only"])
    for row, iid in enumerate(fixed_inv["invoice_id"].to_pylist()):
        for line_no, c in sorted(corrections[iid].items()):
            name = (c["correction_id"], c["to_account"])
            if name not in rule_of:
                rule_of[name] = len(pseudo)
                pseudo.append(
                    Rule(
                        id=f"corrected:{c['correction_id']}",
                        when=never,
                        then=Then(debit_account=c["to_account"]),
                    )
                )
            targets.setdefault(row, []).append((line_no or None, rule_of[name]))
    hook = _CorrectedLines(suggester, targets, pseudo)
    fixed = post_invoices(fixed_inv, fixed_ln, *args, suggester=hook, explain=explain)
    journal = pa.concat_tables(
        [p.journal.select(JOURNAL_LINES.names).cast(JOURNAL_LINES) for p in (plain, fixed)]
    )
    result = PostingResult(
        journal,
        sorted(plain.review + fixed.review, key=lambda r: r["item_id"]),
        pa.concat_arrays([plain.posted_ids, fixed.posted_ids]),
    )
    if explain:
        result.matched = pa.concat_tables(
            [p.matched.cast(_plain_schema(p.matched.schema)) for p in (plain, fixed)]
        )
    return result


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [pa.field(f.name, pa.string()) if pa.types.is_dictionary(f.type) else f for f in schema]
    )
