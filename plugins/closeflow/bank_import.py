"""The nightly import of the bank statements a night received: every statement file gets a
manifest row (imported, duplicate or quarantined with its reason), and the rows the night
owns (`bank:<day>`) are replaced in one transaction."""

from __future__ import annotations

import logging
import mimetypes
from collections import Counter

from closeflow.alerts import quarantined_files
from closeflow.duplicates import Original
from closeflow.failpoints import failpoint
from closeflow.intake import BANK_STATEMENT, receive
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
            for p in fresh:
                statements.append(p.statement | {"run_id": run_key})
                lines.extend(line | {"run_id": run_key} for line in p.lines)
                earlier[p.statement["statement_id"]] = {
                    "statement_id": p.statement["statement_id"],
                    "file_sha256": arrival.file_sha256,
                    "source_uri": arrival.source_uri,
                    "received_at": arrival.received_at,
                }
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
    with rt.warehouse.transaction() as t:
        t.execute(f"DELETE FROM {raw}.bank_lines WHERE run_id = :r", {"r": run_key})
        t.execute(f"DELETE FROM {raw}.bank_statements WHERE run_id = :r", {"r": run_key})
        t.insert("bank_statements", statements)
        t.insert("bank_lines", lines)
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
            "lines": len(lines),
            "rejected": counts.get("quarantined", 0),
            "duplicates": counts.get("duplicate", 0),
        },
    )
    log.info(summary.line())
    return summary
