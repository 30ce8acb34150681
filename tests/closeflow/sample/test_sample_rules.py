"""The sample company's posting rules and its ground truth make the same decisions.

Invoices are made with the generator's own invoice maker (no documents rendered) for
every supplier over two months, posted with the company's posting_rules.yml by the real
engine, and compared invoice by invoice with `expected_posting` / `expected_review`.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from closeflow.config import CompanyConfig
from closeflow.posting import load_rules, post_invoices
from closeflow.sample.company import build_company, write_company_folder
from closeflow.sample.fx import cny_rates
from closeflow.sample.invoices import Buyer, Numbering, make_invoice
from closeflow.sample.suppliers import build_suppliers
from closeflow.sample.truth import expected_posting, expected_review

START, END = dt.date(2025, 12, 1), dt.date(2026, 2, 1)


@pytest.fixture(scope="module")
def posted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rules") / "company"
    company, suppliers = build_company(7), build_suppliers(7)
    rates = cny_rates(7, START, END)
    write_company_folder(folder, company, suppliers, rates, "2025-12")
    config = CompanyConfig(folder)
    rules = load_rules(config.rules_path, accounts=config.chart.codes())
    rng = random.Random(11)
    numbering = Numbering()
    european = Buyer(company.name, company.vat_id, company.address)
    chinese = Buyer(company.cn_name, company.cn_uscc, company.cn_address)
    made = []
    for supplier in suppliers:
        for n in range(24):
            day = START + dt.timedelta(days=rng.randrange((END - START).days))
            buyer = chinese if supplier.is_chinese else european
            made.append(make_invoice(rng, supplier, buyer, day, numbering, n % 6 == 5))
    invoices, lines = [], []
    for k, inv in enumerate(made):
        iid = f"{k:064x}"
        invoices.append(
            {
                "invoice_id": iid,
                "supplier_id": inv.supplier.supplier_id,
                "supplier_name": inv.supplier.name,
                "invoice_number": inv.invoice_number,
                "invoice_date": inv.invoice_date,
                "currency": inv.currency,
                "subtotal": inv.subtotal,
                "tax_amount": inv.tax_amount,
                "total": inv.total,
                "document_type": inv.document_type,
            }
        )
        lines += [
            {
                "invoice_id": iid,
                "line_no": ln.line_no,
                "description": ln.description,
                "amount": ln.amount,
                "tax_rate": ln.tax_rate,
                "tax_amount": ln.tax_amount,
            }
            for ln in inv.lines
        ]
    res = post_invoices(invoices, lines, rules, config.fx, "EUR", "post:test", suggester=None)
    return made, rates, res


def test_every_invoice_posts_as_the_ground_truth_says(posted):
    made, rates, res = posted
    got = defaultdict(lambda: defaultdict(Decimal))
    rule_of = defaultdict(set)
    for j in res.journal_lines:
        got[j["source_id"]][j["account"]] += j["amount"]
        rule_of[j["source_id"]].add(j["rule_id"])
    review = {r["item_id"]: r["reason"] for r in res.review}
    kinds = Counter()
    for k, inv in enumerate(made):
        iid = f"{k:064x}"
        want, why = expected_posting(inv, rates), expected_review(inv, rates)
        if want is None:
            assert iid not in got, inv
            if why == "no_rule":
                assert review[iid] == "no posting rule matches this supplier"
            else:
                assert why == "approval" and review[iid].startswith("needs approval: total ")
            kinds[why] += 1
            continue
        assert iid not in review, (inv.invoice_number, review.get(iid))
        totals = defaultdict(Decimal)
        for account, amount in want:
            totals[account] += amount
        assert dict(got[iid]) == dict(totals), (inv.supplier.name, inv.invoice_number)
        kinds["posted"] += 1
    assert sum(j["amount"] for j in res.journal_lines) == 0
    # every kind of decision occurs: 31 suppliers post, 2 have no rule, fees need approval
    assert kinds["no_rule"] == 48 and kinds["approval"] > 0 and kinds["posted"] > 700
    print(f"\nsample rules over {len(made)} invoices: {dict(kinds)}")


def test_the_specific_rules_fire(posted):
    """Training and freight lines leave their supplier's account; consulting hours get
    the project; rent is split from 2026; fee notes say which line they were."""
    made, _, res = posted
    by_rule = Counter()
    for j in res.journal_lines:
        for rule in (j["rule_id"] or "").split("+"):
            by_rule[rule] += 1
    for rule in ("training", "freight", "bi-project", "rent", "rent-2025", "travel-reduced-vat"):
        assert by_rule[rule] > 0, rule
    rent = [j for j in res.journal_lines if j["rule_id"] == "rent" and j["account"] == "6100"]
    dec = [j for j in res.journal_lines if j["rule_id"] == "rent-2025" and j["account"] == "6100"]
    assert {j["cost_center"] for j in rent} == {"ADMIN", "IT"}
    assert {j["cost_center"] for j in dec} == {"ADMIN"}
    assert all(j["entry_date"] >= dt.date(2026, 1, 1) for j in rent)
    for entry in {j["entry_id"] for j in rent}:
        legs = {j["cost_center"]: j["amount"] for j in rent if j["entry_id"] == entry}
        assert legs["ADMIN"] == (Decimal("0.7") * (legs["ADMIN"] + legs["IT"])).quantize(
            Decimal("0.01")
        )
    training = [j for j in res.journal_lines if j["rule_id"] == "training"]
    assert {(j["account"], j["cost_center"]) for j in training if j["account"] != "2000"} >= {
        ("6450", "HR")
    }
    dwh = [j for j in res.journal_lines if "bi-project" in (j["rule_id"] or "")]
    assert {j["project"] for j in dwh if j["account"] == "6200"} == {"DWH-2026"}
    fees = [
        j
        for j in res.journal_lines
        if j["rule_id"] == "professional-fees" and j["account"] == "6500"
    ]
    assert fees and all(": " in j["description"] for j in fees)
