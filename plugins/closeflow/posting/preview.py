"""A dry run of a rules file: which rule fires for each invoice line, the entry it would
make, and (against the current rules) what a change would change. Nothing is written.

The text is for a reviewer deciding whether a rule change may go live, so it names
invoices as finance knows them (supplier, number, date, total) and shows amounts as in
the ledger: signed, debit positive, in the functional currency.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pyarrow as pa

from closeflow.config import FxRates
from closeflow.posting.engine import INVOICE_INPUT, PostingResult, as_table, post_invoices
from closeflow.posting.rules import RuleSet


@dataclass
class _Outcome:
    lines: list[dict]  # matched posting lines: line_no, description, amount, rule_id, account
    entry: list[dict]  # journal lines
    review: str | None

    def legs(self) -> list[tuple]:
        return [(j["account"], j["cost_center"], j["amount"]) for j in self.entry]


def _outcomes(result: PostingResult) -> dict[str, _Outcome]:
    out: dict[str, _Outcome] = defaultdict(lambda: _Outcome([], [], None))
    for m in result.matched.to_pylist():
        out[m["invoice_id"]].lines.append(m)
    for j in result.journal.to_pylist():
        out[j["source_id"]].entry.append(j)
    for r in result.review:
        out[r["item_id"]].review = r["reason"]
    return out


def _money(v) -> str:
    return f"{v:>12,.2f}"


def _entry_text(entry: list[dict], indent: str = "    ") -> list[str]:
    rows = []
    for j in entry:
        dims = "/".join(x for x in (j["cost_center"], j.get("project")) if x) or ""
        rows.append(
            f"{indent}{j['line_no']:>2}  {j['account']:<6} {dims:<14} {_money(j['amount'])}"
            f"   {j['rule_id'] or ''}"
        )
    return rows


def _line_text(m: dict) -> str:
    desc = (m["description"] or "").replace("\n", " ")
    if len(desc) > 40:
        desc = desc[:39] + "…"
    where = f"rule {m['rule_id']} -> {m['account']}" if m["rule_id"] else "no rule"
    label = "whole invoice" if m["line_no"] == 0 else f"line {m['line_no']}"
    return f"  {label:<13} {desc!r:<44} {_money(m['amount'])}  {where}"


def dry_run(
    rules: RuleSet,
    invoices: pa.Table,
    lines: pa.Table | None,
    fx: FxRates,
    functional_currency: str,
    against: RuleSet | None = None,
    closed_through: str | None = None,
    only_changes: bool = False,
) -> tuple[str, dict[str, int]]:
    """The dry run's report and its counts (posted, review, changed)."""
    lines = lines if lines is not None else pa.table({})
    new = post_invoices(
        invoices, lines, rules, fx, functional_currency, "rules:test", closed_through, explain=True
    )
    old = (
        post_invoices(
            invoices,
            lines,
            against,
            fx,
            functional_currency,
            "rules:test",
            closed_through,
            explain=True,
        )
        if against is not None
        else None
    )
    now, before = _outcomes(new), _outcomes(old) if old is not None else {}
    inv = as_table(invoices, INVOICE_INPUT).sort_by("invoice_id").to_pylist()
    out = [f"rules {rules.content_hash}" + (f" against {against.content_hash}" if against else "")]
    counts = {"invoices": len(inv), "posted": 0, "review": 0, "changed": 0}
    for i in inv:
        o = now[i["invoice_id"]]
        counts["posted" if o.review is None else "review"] += 1
        changes: list[str] = []
        if against is not None:
            p = before[i["invoice_id"]]
            was = {m["line_no"]: m for m in p.lines}
            for m in o.lines:
                w = was.get(m["line_no"])
                if w is not None and (w["rule_id"], w["account"]) != (m["rule_id"], m["account"]):
                    label = "whole invoice" if m["line_no"] == 0 else f"line {m['line_no']}"
                    changes.append(
                        f"    {label}: rule {w['rule_id'] or '(none)'} -> "
                        f"{m['rule_id'] or '(none)'}, account {w['account'] or '(none)'} -> "
                        f"{m['account'] or '(none)'}"
                    )
            if p.review != o.review:
                changes.append(
                    f"    was: {'posted' if p.review is None else 'review: ' + p.review}; "
                    f"now: {'posted' if o.review is None else 'review: ' + o.review}"
                )
            if p.legs() != o.legs():
                gone = [x for x in p.legs() if x not in o.legs()]
                came = [x for x in o.legs() if x not in p.legs()]
                changes += [f"    - {a:<6} {c or '':<14} {_money(v)}" for a, c, v in gone]
                changes += [f"    + {a:<6} {c or '':<14} {_money(v)}" for a, c, v in came]
            if changes:
                counts["changed"] += 1
        if only_changes and not changes:
            continue
        total = i["total"]
        out.append("")
        out.append(
            f"{i['supplier_name'] or i['supplier_id'] or '?'} · {i['invoice_number'] or '?'} · "
            f"{i['invoice_date'] or '?'} · {i['currency'] or '?'} "
            f"{'?' if total is None else f'{total:,.2f}'}"
            f"{' (credit note)' if i['document_type'] == 'credit_note' else ''}"
            f"  [{i['invoice_id'][:12]}]"
        )
        out += [_line_text(m) for m in o.lines]
        if o.review is None:
            out.append(f"  entry {o.entry[0]['entry_id']} on {o.entry[0]['entry_date']}:")
            out += _entry_text(o.entry)
        else:
            out.append(f"  -> review: {o.review}")
        if changes:
            out.append("  changes against the current rules:")
            out += changes
    tail = f"{counts['invoices']} invoices: {counts['posted']} would post, "
    tail += f"{counts['review']} would go to review"
    if against is not None:
        tail += f"; {counts['changed']} change against the current rules"
    out += ["", tail]
    return "\n".join(out) + "\n", counts
