"""Learned suggestions: trained on approved postings, posted above the threshold and
marked, sent to review with the top three below it, measured on held-back history."""

import datetime as dt
import json
from decimal import Decimal as D

import pyarrow as pa

from closeflow.config import FxRates
from closeflow.posting import load_rules, post_invoices
from closeflow.posting.suggest import HISTORY, Suggester, holdout_accuracy

RULES = """\
version: 1
tax_codes:
  DE19: {rate: "0.19", account: "1400"}
rules:
  - id: rent
    when: {supplier_id: "SUP-RENT"}
    then: {debit_account: "6100"}
suggestions: {enabled: true, auto_post_above: 0.8}
"""
KINDS = [
    ("SUP-A", ["cloud hosting", "backup storage", "cdn traffic"], "6200"),
    ("SUP-B", ["printer paper", "toner cartridge", "office chairs"], "6300"),
    ("SUP-C", ["flight berlin", "hotel night", "train ticket"], "6400"),
]


def history() -> pa.Table:
    rows = []
    for n in range(120):
        sup, words, account = KINDS[n % 3]
        rows.append(
            {
                "supplier_id": sup,
                "description": f"{words[n % 3]} {n % 12 + 1:02d}/2025",
                "amount": D(f"{(n * 37) % 900 + 20}.{n % 100:02d}"),
                "account": account,
            }
        )
    return pa.Table.from_pylist(rows, schema=HISTORY)


def invoice(n: int, supplier: str, description: str, net: str) -> tuple[dict, dict]:
    iid = f"{n:064x}"
    tax = (D(net) * D("0.19")).quantize(D("0.01"))
    inv = {
        "invoice_id": iid,
        "supplier_id": supplier,
        "supplier_name": supplier.title(),
        "invoice_number": f"N-{n}",
        "invoice_date": dt.date(2026, 1, 5),
        "currency": "EUR",
        "subtotal": D(net),
        "tax_amount": tax,
        "total": D(net) + tax,
        "document_type": "invoice",
    }
    line = {
        "invoice_id": iid,
        "line_no": 1,
        "description": description,
        "amount": D(net),
        "tax_rate": D("0.19"),
        "tax_amount": tax,
    }
    return inv, line


def test_confident_suggestions_post_marked_and_the_rest_wait_with_the_top_three(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(RULES)
    rules = load_rules(path)
    sug = Suggester.train(history(), threshold=rules.suggestions.auto_post_above)
    assert sug.accounts == ["6200", "6300", "6400"] and len(sug.version) == 12
    pairs = [
        invoice(1, "SUP-A", "cloud hosting 01/2026", "250.00"),
        invoice(2, "SUP-C", "hotel night", "99.00"),
        invoice(3, "SUP-RENT", "office rent January", "1500.00"),
        invoice(4, "SUP-NEW", "miscellaneous", "10.00"),
    ]
    res = post_invoices(
        [i for i, _ in pairs],
        [ln for _, ln in pairs],
        rules,
        FxRates({}),
        "EUR",
        "p",
        suggester=sug,
    )
    by_source = {}
    for j in res.journal_lines:
        by_source.setdefault(j["source_id"][-1], []).append(
            (j["account"], j["amount"], j["rule_id"])
        )
    assert by_source["1"] == [
        ("6200", D("250.00"), f"suggested:{sug.version}"),
        ("1400", D("47.50"), f"suggested:{sug.version}"),
        ("2000", D("-297.50"), f"suggested:{sug.version}"),
    ]
    assert by_source["2"][0] == ("6400", D("99.00"), f"suggested:{sug.version}")
    assert by_source["3"][0] == ("6100", D("1500.00"), "rent")
    assert sum(j["amount"] for j in res.journal_lines) == 0
    [review] = res.review
    assert review["item_id"] == f"{4:064x}"
    assert review["reason"].startswith("no posting rule matches this supplier (suggested: ")
    top = json.loads(review["details"])["suggestions"]
    assert sorted(s["account"] for s in top) == ["6200", "6300", "6400"]
    assert all(0 < s["confidence"] < 0.8 for s in top)


def test_holdout_accuracy_on_history():
    got = holdout_accuracy(history(), fraction=0.25, threshold=0.8)
    assert got["held_back"] == 30
    assert got["accuracy"] == 1.0
    assert got["auto_posted"] == got["auto_posted_right"] == 30
    assert got["wrong_postings"] == 0


def test_history_from_the_ledger_takes_earlier_approved_single_account_entries(tmp_path):
    from closeflow.posting.suggest import history_from_ledger
    from closeflow.runtime import Runtime

    company = tmp_path / "company"
    company.mkdir()
    (company / "company.yml").write_text('name: "Demo"\nap_account: "2000"\n')
    (company / "chart_of_accounts.yml").write_text(
        "accounts:\n"
        + "".join(
            f'  - {{code: "{c}", name: "{c}", type: expense}}\n'
            for c in ("1400", "2000", "6200", "6300", "8999")
        )
    )
    (company / "suppliers.yml").write_text("suppliers: []\n")
    rt = Runtime(home=tmp_path, warehouse_url=f"duckdb:///{tmp_path / 'w.duckdb'}")
    path = tmp_path / "rules.yml"
    path.write_text(RULES)
    rules = load_rules(path)

    def jl(inv: int, account: str, amount: str, rule: str, run: str) -> dict:
        return {
            "entry_id": f"E{inv}",
            "line_no": 1,
            "account": account,
            "amount": D(amount),
            "source_type": "invoice",
            "source_id": f"{inv:064x}",
            "rule_id": rule,
            "run_id": run,
        }

    journal = [
        jl(1, "6200", "100.00", "hosting", "post:2026-01-02"),
        jl(1, "1400", "19.00", "hosting", "post:2026-01-02"),
        jl(1, "2000", "-119.00", "hosting", "post:2026-01-02"),
        jl(2, "6200", "50.00", "a", "post:2026-01-02"),  # two accounts: no one label
        jl(2, "6300", "50.00", "b", "post:2026-01-02"),
        jl(3, "6300", "10.00", "suggested:abc", "post:2026-01-03"),  # not approved by rules
        jl(4, "6300", "10.00", "paper", "post:2026-01-05"),  # the night being posted
    ]
    invoices = [{"invoice_id": f"{n:064x}", "supplier_id": f"SUP-{n}"} for n in (1, 2, 3, 4)]
    lines = [
        {
            "invoice_id": f"{n:064x}",
            "line_no": k,
            "description": f"item {n}.{k}",
            "amount": D("50.00"),
        }
        for n in (1, 2, 3, 4)
        for k in (1, 2)
    ]
    with rt.warehouse.transaction() as t:
        t.insert("journal_lines", journal)
        t.insert("invoices", invoices)
        t.insert("invoice_lines", lines)
    got = history_from_ledger(rt, rules, before_run="post:2026-01-05").to_pylist()
    assert got == [
        {
            "supplier_id": "SUP-1",
            "description": "item 1.1",
            "amount": D("50.00"),
            "account": "6200",
        },
        {
            "supplier_id": "SUP-1",
            "description": "item 1.2",
            "amount": D("50.00"),
            "account": "6200",
        },
    ]


def test_closeflow_post_uses_the_history_the_rules_file_names(tmp_path, capsys):
    import pyarrow.parquet as pq

    from closeflow.cli import main
    from closeflow.schemas import INVOICE_LINES, INVOICES

    pq.write_table(history(), tmp_path / "history.parquet")
    (tmp_path / "rules.yml").write_text(
        RULES.replace("auto_post_above: 0.8}", 'auto_post_above: 0.8, history: "history.parquet"}')
    )
    pairs = [
        invoice(1, "SUP-B", "toner cartridge", "40.00"),
        invoice(2, "SUP-RENT", "rent", "9.00"),
    ]
    pq.write_table(
        pa.Table.from_pylist([i for i, _ in pairs], schema=INVOICES), tmp_path / "i.parquet"
    )
    pq.write_table(
        pa.Table.from_pylist([ln for _, ln in pairs], schema=INVOICE_LINES), tmp_path / "l.parquet"
    )
    args = [
        "post",
        "--invoices",
        str(tmp_path / "i.parquet"),
        "--lines",
        str(tmp_path / "l.parquet"),
        "--rules",
        str(tmp_path / "rules.yml"),
        "--out",
        str(tmp_path / "out"),
    ]
    assert main(args) == 0
    assert capsys.readouterr().out == "2 invoices read, 2 posted (6 journal lines), 0 to review\n"
    got = pq.read_table(tmp_path / "out" / "journal_lines.parquet").to_pylist()
    assert [(j["account"], j["amount"], j["rule_id"].split(":")[0]) for j in got] == [
        ("6300", D("40.00"), "suggested"),
        ("1400", D("7.60"), "suggested"),
        ("2000", D("-47.60"), "suggested"),
        ("6100", D("9.00"), "rent"),
        ("1400", D("1.71"), "rent"),
        ("2000", D("-10.71"), "rent"),
    ]
