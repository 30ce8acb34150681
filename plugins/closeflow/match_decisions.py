"""A person's decision about a bank line's match (`closeflow match confirm|reject|undo`).

A match scoring below company.yml's `reconciliation.auto_confirm_score` is only
suggested: its line stays unexplained and waits in review, naming the suggested invoices.
A person confirms it (or names the invoices the line pays with `--item`) or rejects it.
The decision is recorded in raw.match_decisions (who, when, which line and items, the
suggestion's rule and score, why) and never changed: a new decision about the same pair
is a new row, and the latest counts.

The nightly reconciliation applies the decisions made up to the end of its night
(`decisions_as_of`): a confirmation settles its items and books the payment entry that
night (the night of the day it was made, or the first night after that runs), with
status `confirmed`; a rejected pair is never proposed again. So a re-run of a night
gives the same rows whatever was decided after it, and a later night never undoes a
decision: the confirmed line is explained from then on, and the rejection stands.

A match that stands, made by the night or confirmed by a person, can be undone
(`closeflow match undo`) when it was a mistake. The night of the undo (or the first
night after it that runs) writes an `undone` row for the match and reverses its payment
entry on the undo's day (closeflow.match_state); the invoice is open again, and the
line is tried again that night as if the pair had been rejected: it may match another
invoice, or it waits in review saying whose undo sent it there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict

from closeflow import run_lock
from closeflow.match_state import standing
from closeflow.open_items import open_items_as_of
from closeflow.reconcile import (
    RULE_PERSON,
    SCORES,
    Confirmation,
    PersonDecisions,
    confirmed_parts,
)
from closeflow.runtime import Runtime, Window

log = logging.getLogger(__name__)


class MatchDecisionError(ValueError):
    """A decision that cannot be recorded, with what to do instead."""


def decisions_as_of(rt: Runtime, window: Window | None) -> PersonDecisions:
    """The decisions made before the window's end (all of them for `window=None`): per
    bank line the items of its latest confirmation, and the pairs whose latest decision
    is a rejection or an undo (an undone pair is never proposed again)."""
    where = "decided_at < :end" if window is not None else "TRUE"
    rows = rt.warehouse.read_table(
        "match_decisions",
        f"{where} ORDER BY decided_at, decision_id, item_id",
        {"end": window.end_utc if window is not None else None},
    ).to_pylist()
    latest: dict[tuple[str, str], dict] = {}
    for r in rows:  # in time order: the last row of a pair is its latest decision
        latest[(r["bank_line_id"], r["item_id"])] = r
    confirmations: dict[str, dict[str, list[dict]]] = defaultdict(dict)
    for r in latest.values():
        if r["decision"] == "confirm":
            confirmations[r["bank_line_id"]].setdefault(r["decision_id"], []).append(r)
    confirmed = {}
    for line_id, by_decision in confirmations.items():
        last = max(by_decision.values(), key=lambda rs: (rs[0]["decided_at"], rs[0]["decision_id"]))
        confirmed[line_id] = tuple(
            Confirmation(r["item_id"], r["rule"], r["score"], r["decided_by"], r["decided_at"])
            for r in sorted(last, key=lambda r: r["item_id"])
        )
    rejected = frozenset(pair for pair, r in latest.items() if r["decision"] in ("reject", "undo"))
    return PersonDecisions(confirmed=confirmed, rejected=rejected)


def _line(rt: Runtime, line: str) -> dict:
    """The bank line a person named: its line id or the bank's reference for it."""
    got = rt.warehouse.read_table(
        "bank_lines", "line_id = :l OR bank_reference = :l ORDER BY line_id", {"l": line}
    ).to_pylist()
    if not got:
        raise MatchDecisionError(f"no bank line {line!r} (give its line id)")
    if len(got) > 1:
        raise MatchDecisionError(
            f"{line!r} names {len(got)} bank lines ({', '.join(g['line_id'] for g in got)}): "
            "give the line id"
        )
    return got[0]


def _explained_by(rt: Runtime, line_id: str) -> str | None:
    """How the line is explained already (matched, booked by a bank rule), else None."""
    raw = rt.warehouse.schema
    match = standing_matches(rt, line_id)
    if match:
        m = match[0]
        return f"it is matched already ({m['status']}, {m['rule']}) to invoice {m['item_id'][:12]}"
    rule = rt.warehouse.scalar(
        f"SELECT min(rule_id) FROM {raw}.journal_lines WHERE source_id = :l "
        f"AND source_type IN ('bank_rule', 'bank_fee')",
        {"l": line_id},
    )
    return f"bank rule {rule} booked it already" if rule else None


def standing_matches(rt: Runtime, line_id: str) -> list[dict]:
    """The line's matches that stand (closeflow.match_state), with their invoices."""
    raw = rt.warehouse.schema
    return rt.warehouse.query(
        f"SELECT m.match_id, m.status, m.rule, m.item_id, m.matched_amount, m.run_id, "
        f"i.invoice_number FROM {raw}.matches m "
        f"LEFT JOIN {raw}.invoices i ON i.invoice_id = m.item_id "
        f"WHERE m.bank_line_id = :l AND {standing('m', raw)} ORDER BY m.item_id",
        {"l": line_id},
    ).to_pylist()


def pending_suggestions(rt: Runtime, line_id: str) -> list[dict]:
    """The line's suggestions no person has decided about yet: match rows, best first."""
    raw = rt.warehouse.schema
    rows = rt.warehouse.query(
        f"SELECT m.match_id, m.item_id, m.rule, m.score, m.why, m.run_id, i.invoice_number, "
        f"i.supplier_name FROM {raw}.matches m "
        f"LEFT JOIN {raw}.invoices i ON i.invoice_id = m.item_id "
        f"WHERE m.bank_line_id = :l AND m.status = 'suggested' "
        f"ORDER BY m.score DESC, m.run_id, m.item_id",
        {"l": line_id},
    ).to_pylist()
    decided = {
        r["item_id"]
        for r in rt.warehouse.read_table("match_decisions", "bank_line_id = :l", {"l": line_id})
        .select(["item_id"])
        .to_pylist()
    }
    return [r for r in rows if r["item_id"] not in decided]


def _named(row: dict, name: str) -> bool:
    """Whether a person's `name` names the open item `row`: its id, a unique prefix of it
    (8+ characters), or its invoice number."""
    return (
        row["item_id"] == name
        or row["invoice_number"] == name
        or (len(name) >= 8 and row["item_id"].startswith(name))
    )


def _resolve_items(rt: Runtime, names: list[str], open_rows: list[dict]) -> list[dict]:
    """The open items a person named: item (invoice) id, a unique prefix of it (8+
    characters), or the invoice number."""
    out = []
    for name in names:
        got = [r for r in open_rows if _named(r, name)]
        if not got:
            raise MatchDecisionError(
                f"no open invoice {name!r} (give its id, id prefix or number; a paid one "
                "cannot be matched again)"
            )
        if len(got) > 1:
            raise MatchDecisionError(
                f"{name!r} names {len(got)} open invoices "
                f"({', '.join(r['item_id'][:12] for r in got)}): give the invoice id"
            )
        out.append(got[0])
    return out


def _record(
    rt: Runtime,
    line_id: str,
    decision: str,
    picked: list[tuple[str, str, float]],  # (item id, rule, score)
    by: str,
    reason: str | None,
    at: dt.datetime | None,
) -> dict:
    at = at or dt.datetime.now(dt.UTC)
    items = sorted(item for item, _, _ in picked)
    did = hashlib.sha256(
        f"{line_id}|{','.join(items)}|{decision}|{at.isoformat()}".encode()
    ).hexdigest()[:16]
    rows = [
        {
            "decision_id": did,
            "bank_line_id": line_id,
            "item_id": item,
            "decision": decision,
            "rule": rule,
            "score": score,
            "reason": reason,
            "decided_by": by,
            "decided_at": at,
        }
        for item, rule, score in sorted(picked)
    ]
    with rt.warehouse.transaction() as t:
        t.insert("match_decisions", rows)
    log.info("match decision %s: %s line %s items %s by %s", did, decision, line_id, items, by)
    return {"status": "recorded", "decision_id": did, "bank_line_id": line_id, "rows": rows}


def _check_person(by: str) -> str:
    by = (by or "").strip()
    if not by:
        raise MatchDecisionError("say who decides: the audit trail records it (--by)")
    return by


def confirm_match(
    rt: Runtime,
    line: str,
    items: list[str] | None,
    by: str,
    reason: str | None = None,
    at: dt.datetime | None = None,
) -> dict:
    """Confirm that bank line `line` pays `items` (default: its suggestion). Checked now
    against what is open (the currency, and that the payment settles them as a match
    would: exactly, within the tolerance, a part of one, the sum of several); booked by
    the night of `at` (now)."""
    from closeflow.reconciliation import match_policy

    by = _check_person(by)
    with (
        run_lock.hold(rt.warehouse, f"match confirm {line}", wait=rt.lock_wait),
        rt.warehouse.connected(),
    ):
        bank_line = _line(rt, line)
        line_id = bank_line["line_id"]
        done = _explained_by(rt, line_id)
        if done:
            raise MatchDecisionError(f"bank line {line_id} needs no decision: {done}")
        open_rows = open_items_as_of(rt, None).to_pylist()
        pending = pending_suggestions(rt, line_id)
        if not items:
            if not pending:
                raise MatchDecisionError(
                    f"no suggestion waits for bank line {line_id}: name the invoice it pays "
                    "with --item"
                )
            groups = {(p["run_id"], p["rule"]) for p in pending}
            if len(groups) > 1:
                raise MatchDecisionError(
                    f"bank line {line_id} has {len(groups)} suggestions ("
                    + ", ".join(f"{p['invoice_number']} score {p['score']:.2f}" for p in pending)
                    + "): name the invoice with --item"
                )
            items = [p["item_id"] for p in pending]
        chosen = _resolve_items(rt, items, open_rows)
        currency = (bank_line["currency"] or "").upper()
        other = [r for r in chosen if (r["currency"] or "").upper() != currency]
        if other:
            raise MatchDecisionError(
                f"invoice {other[0]['invoice_number']} is in {other[0]['currency']}, the bank "
                f"line in {currency}"
            )
        parts = confirmed_parts(
            [r["amount_open"] for r in chosen], -bank_line["amount"], match_policy(rt)
        )
        if isinstance(parts, str):
            raise MatchDecisionError(f"bank line {line_id} cannot settle those invoices: {parts}")
        suggested = {p["item_id"]: p for p in pending}
        picked = [
            (
                r["item_id"],
                suggested[r["item_id"]]["rule"] if r["item_id"] in suggested else RULE_PERSON,
                suggested[r["item_id"]]["score"]
                if r["item_id"] in suggested
                else SCORES[RULE_PERSON],
            )
            for r in chosen
        ]
        return _record(rt, line_id, "confirm", picked, by, reason, at)


def reject_match(
    rt: Runtime,
    line: str,
    items: list[str] | None,
    by: str,
    reason: str | None = None,
    at: dt.datetime | None = None,
) -> dict:
    """Reject the suggestions for bank line `line` (all its pending ones, or `items`):
    no night proposes those pairs again; the line stays in review for a person."""
    by = _check_person(by)
    with (
        run_lock.hold(rt.warehouse, f"match reject {line}", wait=rt.lock_wait),
        rt.warehouse.connected(),
    ):
        line_id = _line(rt, line)["line_id"]
        pending = pending_suggestions(rt, line_id)
        if items:
            chosen = []
            for name in items:
                got = [p for p in pending if _named(p, name)]
                if len(got) != 1:
                    raise MatchDecisionError(
                        f"{name!r} is not one of bank line {line_id}'s suggestions ("
                        + (", ".join(str(p["invoice_number"]) for p in pending) or "none")
                        + ")"
                    )
                chosen.append(got[0])
        else:
            chosen = pending
        if not chosen:
            raise MatchDecisionError(f"no suggestion waits for bank line {line_id}")
        picked = [(p["item_id"], p["rule"], p["score"]) for p in chosen]
        return _record(rt, line_id, "reject", picked, by, reason, at)


def undo_match(
    rt: Runtime,
    line: str,
    by: str,
    reason: str,
    at: dt.datetime | None = None,
) -> dict:
    """Undo the match of bank line `line` (auto or confirmed; every invoice it pays): the
    night of `at` (now) reverses its payment entry, opens its invoices again and tries
    the line again without them."""
    by = _check_person(by)
    if not (reason or "").strip():
        raise MatchDecisionError("say why the match is wrong: the audit trail records it")
    with (
        run_lock.hold(rt.warehouse, f"match undo {line}", wait=rt.lock_wait),
        rt.warehouse.connected(),
    ):
        line_id = _line(rt, line)["line_id"]
        matches = standing_matches(rt, line_id)
        if not matches:
            if pending_suggestions(rt, line_id):
                raise MatchDecisionError(
                    f"bank line {line_id} is only suggested, not matched: reject the "
                    "suggestion instead (closeflow match reject)"
                )
            booked = _explained_by(rt, line_id)
            raise MatchDecisionError(
                f"bank line {line_id} has no match to undo"
                + (f": {booked}; change the bank rule and re-run the night" if booked else "")
            )
        # a standing match whose pair's latest decision is an undo waits for its night
        # (a pair confirmed again after an undo is a new match: it may be undone again)
        waiting = decisions_as_of(rt, None).rejected & {(line_id, m["item_id"]) for m in matches}
        if waiting:
            raise MatchDecisionError(
                f"bank line {line_id}'s match is undone already: the next night applies it"
            )
        picked = [(m["item_id"], m["rule"], 1.0) for m in matches]
        return _record(rt, line_id, "undo", picked, by, reason, at)


def undos_to_apply(rt: Runtime, window: Window, run_key: str) -> list[dict]:
    """The matches a person undid before the window's end that no earlier night has
    undone yet: their match rows (from nights before `run_key`), each with `undo_by`,
    `undo_at` and `undo_reason` from the undo decision."""
    raw = rt.warehouse.schema
    return rt.warehouse.query(
        f"""
        WITH latest AS (
            SELECT bank_line_id, item_id, decision, decided_by, decided_at, reason,
                   ROW_NUMBER() OVER (PARTITION BY bank_line_id, item_id
                                      ORDER BY decided_at DESC, decision_id DESC) AS n
            FROM {raw}.match_decisions WHERE decided_at < :end
        )
        SELECT m.*, d.decided_by AS undo_by, d.decided_at AS undo_at, d.reason AS undo_reason
        FROM {raw}.matches m
        JOIN latest d ON d.bank_line_id = m.bank_line_id AND d.item_id = m.item_id
                     AND d.n = 1 AND d.decision = 'undo'
        WHERE m.run_id LIKE 'reconcile:%' AND m.run_id < :rec
          AND {standing("m", raw, "u.run_id < :rec")}
        ORDER BY m.bank_line_id, m.item_id
        """,
        {"end": window.end_utc, "rec": run_key},
    ).to_pylist()
