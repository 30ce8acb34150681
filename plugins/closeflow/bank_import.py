"""The nightly import of the bank statements a night received: every statement file gets a
manifest row (imported, duplicate or quarantined with its reason), and the rows the night
owns (`bank:<day>`) are replaced in one transaction."""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from closeflow.alerts import quarantined_files
from closeflow.bank.statement import PARSED_LINES
from closeflow.duplicates import Original
from closeflow.failpoints import failpoint
from closeflow.intake import BANK_STATEMENT, receive
from closeflow.masking import mask_account
from closeflow.review import plain_reason, review_item
from closeflow.runtime import Runtime, Window
from closeflow.steps import StepSummary, warehouse_step

log = logging.getLogger(__name__)


@warehouse_step("bank")
def import_bank(rt: Runtime, window: Window) -> StepSummary:
    """Import the statements the window received; every file gets a manifest row.

    The files come from closeflow.intake (archived and recorded on the window's first
    run; a re-run reads the archive, never the bank inbox). A file ends `extracted` (its
    statements imported), `duplicate` (the same bytes, or statements already imported
    from an earlier file) or `quarantined` (refused or unreadable: named with its line in
    the review queue, and the night goes on). Only the rows this window's import owns
    (`run_id = bank:<day>`) are replaced."""
    from closeflow.bank import StatementError, parse_statements

    run_key = window.run_key("bank")
    arrivals = receive(rt, BANK_STATEMENT, window)
    accounts = rt.company.company.bank_accounts
    raw = rt.warehouse.schema
    earlier = {
        r["statement_id"]: r
        for r in rt.warehouse.query(
            f"SELECT s.statement_id, s.file_sha256, m.source_uri, m.received_at "
            f"FROM {raw}.bank_statements s JOIN {raw}.file_manifest m "
            f"ON m.file_sha256 = s.file_sha256 AND m.run_id = s.run_id "
            f"WHERE s.run_id < :r AND m.kind = 'bank_statement'",
            {"r": run_key},
        ).to_pylist()
    }
    seen_files = {r["file_sha256"]: r for r in earlier.values()}
    # the bank's bookings already held (two downloads covering the same days): kept once
    held = rt.warehouse.query(
        f"SELECT DISTINCT line_key FROM {raw}.bank_lines "
        f"WHERE run_id < :r AND line_key IS NOT NULL",
        {"r": run_key},
    ).column("line_key")
    held = [held.cast(pa.string())]  # the keys as Arrow columns, not a Python set
    overlapping = 0
    statements, lines, review, manifest = [], [], [], []
    for arrival in arrivals:
        status, reason = "extracted", None
        if arrival.refusal is not None:
            status, reason = "quarantined", arrival.refusal
        elif arrival.file_sha256 in seen_files:
            first = seen_files[arrival.file_sha256]
            status = "duplicate"
            original = Original.of(first["source_uri"], first["received_at"], window.tz)
            reason = f"same file content as {original}"
        else:
            # Exports without an account column name the account in the file name.
            named = next(
                (a for a in accounts if a.account_id.replace(" ", "") in arrival.name), None
            )
            try:
                parsed = parse_statements(
                    arrival.archive_path(rt.home),
                    account_id=named.account_id if named else None,
                    currency=named.currency if named else None,
                )
            except StatementError as exc:
                where = f"{arrival.name}:{exc.line}" if exc.line else arrival.name
                status, reason = "quarantined", f"{where}: {plain_reason(exc.problem)}"
                parsed = []
            fresh = [p for p in parsed if p.statement["statement_id"] not in earlier]
            if parsed and not fresh:
                first = earlier[parsed[0].statement["statement_id"]]
                status = "duplicate"
                original = Original.of(first["source_uri"], first["received_at"], window.tz)
                reason = f"its statements were already imported from {original}"
            new_lines = 0
            for p in fresh:
                keep = _not_held(p.table, held)
                held.append(keep["line_key"])
                overlapping += p.table.num_rows - keep.num_rows
                new_lines += keep.num_rows
                statements.append(p.statement | {"run_id": run_key})
                lines.append(keep)
                earlier[p.statement["statement_id"]] = {
                    "statement_id": p.statement["statement_id"],
                    "file_sha256": arrival.file_sha256,
                    "source_uri": arrival.source_uri,
                    "received_at": arrival.received_at,
                }
            if fresh and not new_lines and any(p.table.num_rows for p in fresh):
                status = "duplicate"
                reason = "every line of it was already imported (an overlapping download)"
            seen_files[arrival.file_sha256] = {
                "source_uri": arrival.source_uri,
                "received_at": arrival.received_at,
            }
        if status == "quarantined":
            log.warning("statement rejected: %s", reason)
            review.append(
                review_item(
                    "statement", arrival.file_sha256, reason, run_key, file=arrival.source_uri
                )
            )
        manifest.append(
            {
                "file_sha256": arrival.file_sha256,
                "source_uri": arrival.source_uri,
                "received_at": arrival.received_at,
                "size_bytes": arrival.size_bytes,
                "media_type": mimetypes.guess_type(arrival.name)[0],
                "status": status,
                "reason": reason,
                "run_id": run_key,
                "kind": BANK_STATEMENT,
            }
        )
    review += _balance_gaps(rt, statements, run_key)
    with rt.warehouse.transaction() as t:
        t.execute(f"DELETE FROM {raw}.bank_lines WHERE run_id = :r", {"r": run_key})
        t.execute(f"DELETE FROM {raw}.bank_statements WHERE run_id = :r", {"r": run_key})
        t.insert("bank_statements", statements)
        t.insert("bank_lines", _with_run(lines, run_key))
        t.replace("file_manifest", manifest, "run_id = :r", {"r": run_key})
        t.replace("review_queue", review, "created_run_id = :r", {"r": run_key})
        failpoint(f"bank:{window.key}")
    quarantined_files(rt.home, run_key, manifest)
    counts = Counter(m["status"] for m in manifest)
    summary = StepSummary(
        "bank",
        window.key,
        {
            "files read": len(arrivals),
            "statements": len(statements),
            "lines": sum(t.num_rows for t in lines),
            "rejected": counts.get("quarantined", 0),
            "duplicates": counts.get("duplicate", 0),
            "lines already held": overlapping,
            "balance gaps": sum(r["item_type"] == "statement_balance" for r in review),
        },
    )
    log.info(summary.line())
    return summary


def _not_held(lines: pa.Table, held: list[pa.ChunkedArray]) -> pa.Table:
    """The lines whose `line_key` none of `held` holds (the bank's bookings not yet kept)."""
    keys = pa.chunked_array([c for h in held for c in h.chunks], pa.string())
    if len(keys) == 0:
        return lines
    return lines.filter(pc.invert(pc.is_in(lines["line_key"], value_set=keys.combine_chunks())))


def _with_run(lines: list[pa.Table], run_key: str) -> pa.Table:
    """The night's new bank lines as one table owned by the run `run_key`."""
    table = pa.concat_tables(lines) if lines else PARSED_LINES.empty_table()
    return table.append_column("run_id", pa.repeat(pa.scalar(run_key, pa.string()), table.num_rows))


def _balance_gaps(rt: Runtime, statements: list[dict], run_key: str) -> list[dict]:
    """Review items for statements whose opening balance is not the closing balance of
    the account's statement before (a statement missing, or one of them wrong)."""
    raw = rt.warehouse.schema
    before = rt.warehouse.query(
        f"SELECT statement_id, account_id, currency, to_date, closing_balance "
        f"FROM {raw}.bank_statements WHERE run_id < :r AND closing_balance IS NOT NULL",
        {"r": run_key},
    ).to_pylist()
    chain = sorted(
        before + [s for s in statements if s.get("closing_balance") is not None],
        key=lambda s: (s["to_date"] or dt.date.min, s["statement_id"]),
    )
    out = []
    for st in statements:
        if st.get("opening_balance") is None or st.get("from_date") is None:
            continue
        earlier = [
            p
            for p in chain
            if (p["account_id"], p["currency"]) == (st["account_id"], st["currency"])
            and p["to_date"] is not None
            and p["to_date"] < st["from_date"]
        ]
        if not earlier or earlier[-1]["closing_balance"] == st["opening_balance"]:
            continue
        prev = earlier[-1]
        account = mask_account(st["account_id"])
        out.append(
            review_item(
                "statement_balance",
                st["statement_id"],
                f"the statement of account {account} from {st['from_date']} opens at "
                f"{st['opening_balance']:,.2f} {st['currency']}, but the one before (to "
                f"{prev['to_date']}) closed at {prev['closing_balance']:,.2f}: a statement "
                "may be missing, or one of them is wrong",
                run_key,
                statement=st["statement_id"],
                previous=prev["statement_id"],
            )
        )
        log.warning(out[-1]["reason"])
    return out
