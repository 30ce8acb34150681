"""The generated sample company's statements parse to its ground truth and reconcile.

A month of the sample company (closeflow.sample): daily camt.053 for the EUR account,
CSV for the CNY account. Every statement must parse, chain (each day opens where the day
before closed) and hold exactly the lines of HOME/truth/bank_lines.jsonl; reconciled
against the open items of the invoices in HOME/truth/documents.jsonl, every line the
truth marks `exact` matches its invoice and nothing else matches.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from closeflow.bank import ParsedStatement, lines_table, parse_statements, statements_table
from closeflow.config import CompanyConfig
from closeflow.reconcile import (
    NO_MATCH,
    RULE_COUNTERPARTY_NAME,
    RULE_REFERENCE_PARTIAL,
    reconcile,
)
from closeflow.reconciliation import match_policy, supplier_names
from closeflow.runtime import Runtime
from closeflow.sample import generate
from closeflow.schemas import BANK_LINES, BANK_STATEMENTS, OPEN_ITEMS


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("sample")
    # seed 11's January has a CNY payment, a refund and a partial payment besides the rest
    generate(home, dt.date(2026, 1, 1), 1, 11, days=31)
    return home


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def parse_bank_inbox(home: Path) -> dict[str, ParsedStatement]:
    """Each statement file, parsed with the account the company configures for it."""
    accounts = CompanyConfig(home / "company").company.bank_accounts
    out = {}
    for path in sorted((home / "bank_inbox").iterdir()):
        (account,) = [a for a in accounts if a.account_id in path.name]
        (statement,) = parse_statements(path, account_id=account.account_id)
        out[f"bank_inbox/{path.name}"] = statement
    return out


def open_items(home: Path) -> pa.Table:
    """What we owe after the window opens: every extracted invoice, credit notes negative."""
    rows = []
    for doc in read_jsonl(home / "truth" / "documents.jsonl"):
        inv = doc["invoice"]
        if doc["expected_status"] != "extracted" or inv is None:
            continue
        total = Decimal(inv["total"])
        rows.append(
            {
                "item_id": doc["sha256"],
                "supplier_id": inv["supplier_id"],
                "supplier_name": inv["supplier_name"],
                "supplier_account": inv["supplier_iban"],
                "invoice_number": inv["invoice_number"],
                "payment_reference": inv["payment_reference"],
                "due_date": dt.date.fromisoformat(inv["due_date"]) if inv["due_date"] else None,
                "amount_open": -total if inv["document_type"] == "credit_note" else total,
                "currency": inv["currency"],
            }
        )
    return pa.Table.from_pylist(rows, schema=OPEN_ITEMS)


def test_statements_parse_to_the_ground_truth(home: Path) -> None:
    parsed = parse_bank_inbox(home)
    truth: dict[str, list[dict]] = defaultdict(list)
    for line in read_jsonl(home / "truth" / "bank_lines.jsonl"):
        truth[line["statement_file"]].append(line)

    assert set(truth) <= set(parsed)  # days without movements have a camt.053 too
    formats = {st.statement["source_format"] for st in parsed.values()}
    assert formats == {"camt.053", "csv"}
    for name, st in parsed.items():
        expected = truth.get(name, [])
        got = [
            (ln["booking_date"].isoformat(), str(ln["amount"]), ln["currency"],
             ln["remittance_info"], ln["bank_reference"])
            for ln in st.lines
        ]  # fmt: skip
        want = [
            (t["booking_date"], t["amount"], t["currency"], t["remittance_info"],
             t["bank_reference"])
            for t in expected
        ]  # fmt: skip
        assert got == want, name
        assert {st.statement["account_id"]} | {t["account_id"] for t in expected} == {
            st.statement["account_id"]
        }
        if st.statement["source_format"] == "camt.053":
            assert st.warnings == []  # balances present and adding up
    assert statements_table(list(parsed.values())).schema == BANK_STATEMENTS
    assert lines_table(list(parsed.values())).schema == BANK_LINES


def test_each_day_opens_where_the_day_before_closed(home: Path) -> None:
    camt = [st.statement for st in parse_bank_inbox(home).values()]
    eur = sorted((s for s in camt if s["currency"] == "EUR"), key=lambda s: s["from_date"])
    assert len(eur) > 15
    assert eur[0]["opening_balance"] == Decimal("25000.00")
    for before, after in zip(eur, eur[1:], strict=False):
        assert after["opening_balance"] == before["closing_balance"]
    assert len({s["statement_id"] for s in camt}) == len(camt)


def test_statements_reconcile_against_the_open_invoices(home: Path, tmp_path: Path) -> None:
    parsed = parse_bank_inbox(home)
    bank_lines = lines_table(list(parsed.values()))
    rt = Runtime(home=home, warehouse_url=f"duckdb:///{tmp_path / 'w.duckdb'}")
    # the sample company's own policy (its tolerance) and suppliers' names
    result = reconcile(
        bank_lines, open_items(home), "sample-run", match_policy(rt), supplier_names(rt)
    )

    line_ids = {}
    for name, st in parsed.items():
        for ln in st.lines:
            line_ids[(name, ln["bank_reference"])] = ln["line_id"]
    truth = read_jsonl(home / "truth" / "bank_lines.jsonl")
    # what the generator says each line pays and by which pass (bank-rule lines: none)
    expected = {
        line_ids[(t["statement_file"], t["bank_reference"])]: (
            t["expected_match_rule"],
            frozenset(t["invoice_sha256s"]),
        )
        for t in truth
        if t["expected_match"] != "none"
    }
    got: dict[str, tuple[str, frozenset[str]]] = {}
    status: dict[str, str] = {}
    for m in result.matches.to_pylist():
        rule, items = got.get(m["bank_line_id"], (m["rule"], frozenset()))
        got[m["bank_line_id"]] = (rule, items | {m["item_id"]})
        status[m["bank_line_id"]] = m["status"]
    kinds = {(t["kind"], t["currency"]) for t in truth}
    cases = (  # a CNY payment by reference, a refund, a partial payment, two in one
        {("payment", "CNY"), ("typo_reference", "CNY")},
        {("refund", "EUR"), ("refund_fee_deducted", "EUR")},
        {("partial_payment", "EUR")},
        {("several_invoices", "EUR")},
    )
    assert all(kinds & case for case in cases), (
        "the sample no longer has every case this test is about: choose another seed"
    )
    assert got == expected
    # below the company's auto-confirm score a match is suggested (not booked), else auto
    threshold = match_policy(rt).auto_confirm_score
    for m in result.matches.to_pylist():
        assert m["status"] == ("auto" if m["score"] >= threshold else "suggested"), m
    suggested = {line for line, s in status.items() if s == "suggested"}
    assert RULE_COUNTERPARTY_NAME in {got[line][0] for line in suggested}

    reasons = {r["item_id"]: r["reason"] for r in result.review}
    unmatched = set(result.unmatched_lines.column("line_id").to_pylist())
    assert set(reasons) == unmatched
    assert len(unmatched) + len(got) - len(suggested) == bank_lines.num_rows
    for t in truth:
        line_id = line_ids[(t["statement_file"], t["bank_reference"])]
        if t["expected_match"] == "partial":
            assert got[line_id][0] == RULE_REFERENCE_PARTIAL, t
        elif t["expected_match"] == "none":
            assert reasons[line_id] == NO_MATCH, t
    rt.warehouse.dispose()
