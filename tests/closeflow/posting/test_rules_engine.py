"""The rules engine: conditions, actions, priorities, splits, tax, rounding, approval.

Every test posts real invoices through `post_invoices` (Arrow + DuckDB) and checks the
entries to the cent.
"""

import datetime as dt
import textwrap
from decimal import Decimal as D

import pyarrow as pa
import pytest

from closeflow.config import ConfigError, FxRates
from closeflow.posting import load_rules, post_invoices
from closeflow.posting.engine import entry_id_for

FX = FxRates({("CNY", dt.date(2026, 1, 5)): D("0.128137")})
HEAD = """\
version: 1
ap_account: "2000"
rounding_account: "8999"
tax_codes:
  DE19: {rate: "0.19", account: "1400"}
  DE7: {rate: "0.07", account: "1400"}
  DE0: {rate: "0", account: "1400"}
  NONDED19: {rate: "0.19", account: "6990"}
  CN13: {rate: "0.13", account: "1401"}
rules:
"""


def rules_from(tmp_path, body: str, name: str = "rules.yml"):
    p = tmp_path / name
    p.write_text(HEAD + textwrap.indent(textwrap.dedent(body), "  "))
    return load_rules(p)


def invoice(n: int = 1, **kw) -> dict:
    base = {
        "invoice_id": f"{n:064x}",
        "supplier_id": "SUP-001",
        "supplier_name": "Hoster GmbH",
        "supplier_tax_id": "DE123456789",
        "buyer_name": "Closeflow Demo GmbH",
        "buyer_tax_id": "DE999999999",
        "invoice_number": f"INV-{n}",
        "invoice_date": dt.date(2026, 1, 5),
        "currency": "EUR",
        "subtotal": D("100.00"),
        "tax_amount": D("19.00"),
        "total": D("119.00"),
        "document_type": "invoice",
    }
    return base | kw


def line(n: int, no: int, description: str, amount: str, rate: str = "0.19", tax=None) -> dict:
    return {
        "invoice_id": f"{n:064x}",
        "line_no": no,
        "description": description,
        "amount": D(amount),
        "tax_rate": D(rate),
        "tax_amount": None if tax is None else D(tax),
    }


def legs(res, n: int | None = None) -> list[tuple]:
    rows = res.journal_lines
    if n is not None:
        rows = [j for j in rows if j["source_id"] == f"{n:064x}"]
    return [(j["account"], j["amount"], j["cost_center"], j["rule_id"]) for j in rows]


def test_line_conditions_keywords_regex_amount_and_first_match_by_priority(tmp_path):
    rules = rules_from(
        tmp_path,
        """\
        - id: any-hosting
          priority: 50
          when: {supplier_id: "SUP-001"}
          then: {debit_account: "6200"}
        - id: travel
          priority: 10
          when: {supplier_id: "SUP-001", description_keywords: ["flight", "hotel"]}
          then: {debit_account: "6400", cost_center: "SALES"}
        - id: big-licence
          priority: 20
          when:
            all:
              - {description_regex: "^licen[cs]e\\\\b"}
              - {amount: {min: "500.00"}}
          then: {debit_account: "6500"}
        """,
    )
    inv = invoice(subtotal=D("800.00"), tax_amount=D("152.00"), total=D("952.00"))
    lines = [
        line(1, 1, "Hotel Berlin 2 nights", "200.00"),
        line(1, 2, "Licence Pro annual", "550.00"),
        line(1, 3, "licence add-on", "50.00"),
    ]
    res = post_invoices([inv], lines, rules, FX, "EUR", "post:x", explain=True)
    assert legs(res) == [
        ("6400", D("200.00"), "SALES", "travel"),
        ("6500", D("550.00"), None, "big-licence"),
        ("6200", D("50.00"), None, "any-hosting"),
        ("1400", D("152.00"), None, "travel"),
        ("2000", D("-952.00"), None, "travel"),
    ]
    assert [(m["line_no"], m["rule_id"]) for m in res.matched.to_pylist()] == [
        (1, "travel"),
        (2, "big-licence"),
        (3, "any-hosting"),
    ]


def test_any_not_and_invoice_level_conditions(tmp_path):
    rules = rules_from(
        tmp_path,
        """\
        - id: credit-notes-to-suspense
          priority: 1
          when: {document_type: credit_note}
          then: {debit_account: "1590"}
        - id: branch
          priority: 5
          when:
            any:
              - {buyer_tax_id: "CN-BRANCH"}
              - {buyer_name_regex: "上海"}
          then: {debit_account: "6300", cost_center: "CN"}
        - id: not-de
          priority: 6
          when:
            not: {supplier_tax_id: ["DE123456789"]}
          then: {debit_account: "6500"}
        - id: by-name-and-total
          priority: 7
          when: {supplier_name_regex: "hoster", total: {min: "100", max: "200"}, currency: EUR}
          then: {debit_account: "6200"}
        """,
    )
    invs = [
        invoice(1),
        invoice(2, buyer_name="克洛斯弗洛（上海）贸易有限公司", buyer_tax_id="X"),
        invoice(3, supplier_tax_id="FR1"),
        invoice(4, document_type="credit_note"),
        invoice(5, subtotal=D("1000.00"), tax_amount=D("190.00"), total=D("1190.00")),
    ]
    res = post_invoices(invs, [], rules, FX, "EUR", "post:x")
    first = {
        j["source_id"][-1]: (j["account"], j["amount"])
        for j in res.journal_lines
        if j["line_no"] == 1
    }
    assert first == {
        "1": ("6200", D("100.00")),
        "2": ("6300", D("100.00")),
        "3": ("6500", D("100.00")),
        "4": ("1590", D("-100.00")),
    }
    assert [r["reason"] for r in res.review] == ["no posting rule matches this supplier"]


def test_tax_rate_valid_dates_and_cost_center_present(tmp_path):
    rules = rules_from(
        tmp_path,
        """\
        - id: old-contract
          priority: 1
          valid_to: 2025-12-31
          when: {supplier_id: "SUP-001"}
          then: {debit_account: "6100"}
        - id: reduced-rate-books
          priority: 2
          when: {tax_rate: "0.07"}
          then: {debit_account: "6450"}
        - id: has-cc
          priority: 3
          when: {has_cost_center: true}
          then: {debit_account: "6300"}
        - id: rest
          priority: 4
          valid_from: 2026-01-01
          when: {supplier_id: "SUP-001"}
          then: {debit_account: "6200"}
        """,
    )
    inv = invoice(subtotal=D("300.00"), tax_amount=D("45.00"), total=D("345.00"))
    lines = [
        line(1, 1, "Books", "100.00", "0.07", "7.00"),
        line(1, 2, "Chairs", "100.00", "0.19", "19.00") | {"cost_center": "OPS"},
        line(1, 3, "Hosting", "100.00", "0.19", "19.00"),
    ]
    res = post_invoices([inv], lines, rules, FX, "EUR", "p")
    assert [(a, amt, cc) for a, amt, cc, _ in legs(res)] == [
        ("6450", D("100.00"), None),
        ("6300", D("100.00"), "OPS"),
        ("6200", D("100.00"), None),
        ("1400", D("7.00"), None),
        ("1400", D("38.00"), None),
        ("2000", D("-345.00"), None),
    ]
    old = post_invoices([invoice(invoice_date=dt.date(2025, 12, 1))], [], rules, FX, "EUR", "p")
    assert legs(old)[0][:2] == ("6100", D("100.00"))


def test_percentage_split_last_takes_the_rounding_and_fixed_split(tmp_path):
    rules = rules_from(
        tmp_path,
        """\
        - id: thirds
          when: {supplier_id: "SUP-001"}
          then:
            splits:
              - {account: "6200", percent: "33.33", cost_center: "IT"}
              - {account: "6200", percent: "33.33", cost_center: "OPS"}
              - {account: "6800", percent: "33.34", cost_center: "MKT"}
        - id: fixed
          when: {supplier_id: "SUP-002"}
          then:
            cost_center: "HQ"
            splits:
              - {account: "6100", amount: "80.00"}
              - {account: "6110"}
        """,
    )
    invs = [
        invoice(1, subtotal=D("100.01"), tax_amount=D("19.00"), total=D("119.01")),
        invoice(
            2, supplier_id="SUP-002", subtotal=D("99.99"), tax_amount=D("19.00"), total=D("118.99")
        ),
    ]
    res = post_invoices(invs, [], rules, FX, "EUR", "p")
    assert [(a, amt, cc) for a, amt, cc, _ in legs(res, 1)] == [
        ("6200", D("33.33"), "IT"),
        ("6200", D("33.33"), "OPS"),
        ("6800", D("33.35"), "MKT"),
        ("1400", D("19.00"), None),
        ("2000", D("-119.01"), None),
    ]
    assert [(a, amt, cc) for a, amt, cc, _ in legs(res, 2)] == [
        ("6100", D("80.00"), "HQ"),
        ("6110", D("19.99"), "HQ"),
        ("1400", D("19.00"), None),
        ("2000", D("-118.99"), None),
    ]
    small = invoice(
        3, supplier_id="SUP-002", subtotal=D("50.00"), tax_amount=D("9.50"), total=D("59.50")
    )
    res = post_invoices([small], [], rules, FX, "EUR", "p")
    assert res.journal_lines == []
    assert res.review[0]["reason"].startswith("the fixed split amounts are more than the line")


def test_continue_rule_adds_dimensions_and_a_later_rule_sets_the_account(tmp_path):
    rules = rules_from(
        tmp_path,
        """\
        - id: project-apollo
          priority: 1
          continue: true
          when: {description_keywords: ["apollo"]}
          then: {cost_center: "R&D", project: "APOLLO"}
        - id: hosting
          priority: 2
          when: {supplier_id: "SUP-001"}
          then: {debit_account: "6200", cost_center: "IT",
                 description: "{supplier_name} {invoice_number}: {description}"}
        """,
    )
    inv = invoice(subtotal=D("150.00"), tax_amount=D("28.50"), total=D("178.50"))
    lines = [line(1, 1, "Apollo GPU servers", "100.00"), line(1, 2, "Backup", "50.00")]
    res = post_invoices([inv], lines, rules, FX, "EUR", "p")
    rows = res.journal.to_pylist()
    assert [
        (r["account"], r["amount"], r["cost_center"], r["project"], r["rule_id"]) for r in rows[:2]
    ] == [
        ("6200", D("100.00"), "R&D", "APOLLO", "project-apollo+hosting"),
        ("6200", D("50.00"), "IT", None, "hosting"),
    ]
    assert rows[0]["description"] == "Hoster GmbH INV-1: Apollo GPU servers"
    assert rows[2]["description"] == "Hoster GmbH INV-1"


def test_tax_code_ap_account_and_approval_threshold(tmp_path):
    rules = rules_from(
        tmp_path,
        """\
        - id: entertainment
          when: {supplier_id: "SUP-003"}
          then: {debit_account: "6800", tax_code: NONDED19, ap_account: "2100"}
        - id: hosting
          when: {supplier_id: "SUP-001"}
          then: {debit_account: "6200", approval_above: "1000.00"}
        - id: lawyer
          when: {supplier_id: "SUP-004"}
          then: {debit_account: "6500", auto_post: false}
        """,
    )
    invs = [
        invoice(1, supplier_id="SUP-003"),
        invoice(2, subtotal=D("1000.00"), tax_amount=D("190.00"), total=D("1190.00")),
        invoice(3, subtotal=D("840.34"), tax_amount=D("159.66"), total=D("1000.00")),
        invoice(4, supplier_id="SUP-004"),
    ]
    res = post_invoices(invs, [], rules, FX, "EUR", "p")
    assert [(a, amt) for a, amt, _, _ in legs(res, 1)] == [
        ("6800", D("100.00")),
        ("6990", D("19.00")),
        ("2100", D("-119.00")),
    ]
    assert res.posted == [f"{1:064x}", f"{3:064x}"]
    reasons = {r["item_id"][-1]: r["reason"] for r in res.review}
    assert reasons == {
        "2": "needs approval: total 1190.00 is above 1000.00 (rule hosting)",
        "4": "needs approval: rule lawyer never posts on its own",
    }


def test_rounding_difference_goes_to_the_rounding_account(tmp_path):
    rules = rules_from(
        tmp_path,
        """\
        - id: hosting
          when: {supplier_id: "SUP-001"}
          then: {debit_account: "6200"}
        """,
    )
    # two rates, tax printed per invoice: 19 % of 10.05 = 1.9095, 7 % of 10.05 = 0.7035
    inv = invoice(subtotal=D("20.10"), tax_amount=D("2.62"), total=D("22.73"))
    lines = [line(1, 1, "A", "10.05", "0.19"), line(1, 2, "B", "10.05", "0.07")]
    res = post_invoices([inv], lines, rules, FX, "EUR", "p")
    assert [(a, amt) for a, amt, _, _ in legs(res)] == [
        ("6200", D("20.10")),
        ("1400", D("0.70")),
        ("1400", D("1.91")),
        ("8999", D("0.02")),
        ("2000", D("-22.73")),
    ]
    off = invoice(2, total=D("120.00"))
    res = post_invoices([off], [], rules, FX, "EUR", "p")
    assert res.review[0]["reason"] == (
        "total 120.00 differs from net + tax by 1.00, more than rounding: check the amounts"
    )


def test_multi_currency_lines_of_one_account_convert_once_and_balance(tmp_path):
    rules = rules_from(
        tmp_path,
        """\
        - id: cn
          when: {currency: CNY}
          then: {debit_account: "6300"}
        """,
    )
    inv = invoice(currency="CNY", subtotal=D("1000.01"), tax_amount=D("130.00"), total=D("1130.01"))
    lines = [line(1, 1, "a", "500.005", "0.13"), line(1, 2, "b", "500.00", "0.13")]
    lines[0]["amount"] = D("500.01")
    res = post_invoices([inv], lines, rules, FX, "EUR", "p")
    got = {a: amt for a, amt, _, _ in legs(res)}
    assert got == {"6300": D("128.14"), "1401": D("16.66"), "2000": D("-144.80")}
    assert sum(got.values()) == 0
    assert {j["fx_rate"] for j in res.journal_lines} == {D("0.128137")}


def test_credit_note_with_negative_lines_reverses(tmp_path):
    rules = rules_from(
        tmp_path,
        """\
        - id: hosting
          when: {supplier_id: "SUP-001"}
          then: {debit_account: "6200"}
        """,
    )
    inv = invoice(
        document_type="credit_note",
        subtotal=D("-100.00"),
        tax_amount=D("-19.00"),
        total=D("-119.00"),
    )
    res = post_invoices(
        [inv], [line(1, 1, "refund", "-100.00", "0.19", "-19.00")], rules, FX, "EUR", "p"
    )
    assert [(a, amt) for a, amt, _, _ in legs(res)] == [
        ("6200", D("-100.00")),
        ("1400", D("-19.00")),
        ("2000", D("119.00")),
    ]
    assert [j["amount_txn"] for j in res.journal_lines] == [D("-100.00"), D("-19.00"), D("119.00")]


def test_arrow_batch_gives_the_same_entries_and_sql_entry_ids_match_python(tmp_path):
    rules = rules_from(
        tmp_path,
        """\
        - id: hosting
          when: {supplier_id: "SUP-001"}
          then: {debit_account: "6200"}
        """,
    )
    invs = [invoice(n) for n in range(1, 6)]
    a = post_invoices(invs, [], rules, FX, "EUR", "p")
    b = post_invoices(pa.Table.from_pylist(invs), pa.table({}), rules, FX, "EUR", "p")
    assert a.journal_lines == b.journal_lines and len(a.journal_lines) == 15
    assert {j["entry_id"] for j in a.journal_lines} == {
        entry_id_for("invoice", i["invoice_id"]) for i in invs
    }


BAD = [
    (
        """- id: a\n  when: {supplier_id: "S"}\n  then:\n    splits:\n"""
        """      - {account: "6200", percent: "60"}\n      - {account: "6300", percent: "30"}\n""",
        13,
        "split percentages add up to 90, not 100",
    ),
    (
        """- id: a\n  when: {description_regex: "(?=lookahead)"}\n  then: {debit_account: "1"}\n""",
        12,
        "not a valid regular expression",
    ),
    (
        """- id: a\n  when: {supplier_id: "S"}\n"""
        """  then: {debit_account: "1", description: "{nope}"}\n""",
        13,
        "unknown template field {nope}",
    ),
    (
        """- id: a\n  when: {supplier_id: "S"}\n  then: {debit_account: "1", tax_code: XX}\n""",
        13,
        "names tax code 'XX', which tax_codes does not define",
    ),
    (
        """- id: a\n  when:\n    any:\n      - {}\n  then: {debit_account: "1"}\n""",
        14,
        "rule 'a' has an empty condition",
    ),
    (
        """- id: a\n  when: {supplier_id: "S", amount: {min: "5", mx: "9"}}\n"""
        """  then: {debit_account: "1"}\n""",
        12,
        "unknown field 'rules.0.when.amount.mx' (fix: did you mean 'max'?)",
    ),
    (
        """- id: a\n  when: {supplier_id: "S"}\n  then: {cost_center: "X"}\n""",
        11,
        "a rule that ends the search needs debit_account or splits",
    ),
]


@pytest.mark.parametrize(("body", "line_no", "message"), BAD)
def test_malformed_rules_name_file_line_and_fix(tmp_path, body, line_no, message):
    p = tmp_path / "r.yml"
    p.write_text(HEAD + textwrap.indent(body, "  "))
    with pytest.raises(ConfigError) as exc:
        load_rules(p)
    assert str(exc.value).startswith(f"{p}:{line_no}: "), str(exc.value)
    assert message in str(exc.value)


def test_a_batch_posted_in_chunks_gives_the_same_entries(tmp_path, monkeypatch):
    from closeflow.posting import engine

    rules = rules_from(
        tmp_path,
        """\
        - id: hosting
          when: {supplier_id: "SUP-001"}
          then: {debit_account: "6200"}
        """,
    )
    invs = [invoice(n) for n in range(1, 8)] + [invoice(9, supplier_id="SUP-X")]
    lines = [line(n, 1, "Hosting", "100.00", tax="19.00") for n in range(1, 8)]
    whole = post_invoices(invs, lines, rules, FX, "EUR", "p", explain=True)
    monkeypatch.setattr(engine, "CHUNK_INVOICES", 3)
    chunked = post_invoices(invs, lines, rules, FX, "EUR", "p", explain=True)
    assert chunked.journal_lines == whole.journal_lines and len(whole.journal_lines) == 21
    assert chunked.review == whole.review and len(whole.review) == 1
    assert chunked.posted == whole.posted
    assert chunked.matched.to_pylist() == whole.matched.to_pylist()


def _count_passes(monkeypatch, engine) -> list[bool]:
    """Record each pass post_parquet makes over the files (in_order or by lookup)."""
    passes: list[bool] = []
    real = engine._post_files

    def spy(*args, in_order):
        passes.append(in_order)
        return real(*args, in_order=in_order)

    monkeypatch.setattr(engine, "_post_files", spy)
    return passes


def test_post_parquet_checks_the_lines_after_the_last_invoice(tmp_path, monkeypatch):
    """A line out of order after the last invoice's (never handed to a chunk) could
    belong to an invoice: the lines are read to the end, and the batch posted by lookup."""
    import pyarrow.parquet as pq

    from closeflow.posting import engine
    from closeflow.schemas import INVOICE_LINES, INVOICES

    rules = rules_from(
        tmp_path,
        """\
        - id: hosting
          when: {supplier_id: "SUP-001"}
          then: {debit_account: "6200"}
        """,
    )
    invs = [invoice(n) for n in range(1, 5)]
    lines = [line(n, 1, "Hosting", "60.00") for n in range(1, 5)]
    lines += [line(9, 1, "Orphan", "1.00"), line(1, 2, "Hosting", "40.00")]
    pq.write_table(pa.Table.from_pylist(invs, schema=INVOICES), tmp_path / "i.parquet")
    pq.write_table(pa.Table.from_pylist(lines, schema=INVOICE_LINES), tmp_path / "l.parquet")
    whole = post_invoices(invs, lines, rules, FX, "EUR", "p")
    monkeypatch.setattr(engine, "CHUNK_INVOICES", 2)
    monkeypatch.setattr(engine._SortedLines, "BATCH", 1)
    passes = _count_passes(monkeypatch, engine)
    counts = engine.post_parquet(
        tmp_path / "i.parquet",
        tmp_path / "l.parquet",
        rules,
        FX,
        "EUR",
        "p",
        tmp_path / "j.parquet",
        tmp_path / "r.parquet",
    )
    assert passes == [True, False]
    journal = pq.read_table(tmp_path / "j.parquet").to_pylist()
    key = lambda r: (r["entry_id"], r["line_no"])  # noqa: E731
    assert sorted(journal, key=key) == sorted(whole.journal_lines, key=key)
    assert (counts.invoices, counts.journal_lines) == (4, len(whole.journal_lines))


@pytest.mark.parametrize("order", ["by_id", "shuffled", "late"])
def test_post_parquet_writes_what_post_invoices_returns_chunk_by_chunk(
    tmp_path, monkeypatch, order
):
    """`closeflow post`'s streaming path: files in invoice id order are read in one pass,
    others chunk by chunk by id; either way the files hold exactly the in-memory result,
    the project dimension included. The order is checked as the files are read: seen
    out of order only after chunks were written ("late"), the batch is posted again by
    lookup."""
    import pyarrow.parquet as pq

    from closeflow.posting import engine
    from closeflow.schemas import INVOICE_LINES, INVOICES, JOURNAL_LINES, REVIEW_QUEUE

    rules = rules_from(
        tmp_path,
        """\
        - id: apollo
          priority: 1
          continue: true
          when: {description_keywords: ["apollo"]}
          then: {project: "APOLLO"}
        - id: hosting
          when: {supplier_id: "SUP-001"}
          then: {debit_account: "6200"}
        """,
    )
    invs = [invoice(n) for n in range(1, 8)] + [invoice(9, supplier_id="SUP-X")]
    lines = [line(n, 1, "Apollo hosting" if n % 2 else "Hosting", "100.00") for n in range(1, 8)]
    lines += [line(9, 1, "Other", "100.00")]
    if order == "shuffled":
        invs, lines = invs[::-1], lines[3:] + lines[:3]
    if order == "late":  # the first two chunks in order, the third not
        invs = invs[:6] + invs[6:][::-1]
    pq.write_table(pa.Table.from_pylist(invs, schema=INVOICES), tmp_path / "i.parquet")
    pq.write_table(pa.Table.from_pylist(lines, schema=INVOICE_LINES), tmp_path / "l.parquet")
    whole = post_invoices(invs, lines, rules, FX, "EUR", "p", explain=True)
    monkeypatch.setattr(engine, "CHUNK_INVOICES", 3)
    passes = _count_passes(monkeypatch, engine)
    counts = engine.post_parquet(
        tmp_path / "i.parquet",
        tmp_path / "l.parquet",
        rules,
        FX,
        "EUR",
        "p",
        tmp_path / "j.parquet",
        tmp_path / "r.parquet",
        explain_path=tmp_path / "x.parquet",
    )
    assert passes == ([True] if order == "by_id" else [True, False])
    journal = pq.read_table(tmp_path / "j.parquet")
    assert journal.schema == JOURNAL_LINES
    key = lambda r: (r["entry_id"], r["line_no"])  # noqa: E731
    assert sorted(journal.to_pylist(), key=key) == sorted(whole.journal_lines, key=key)
    assert len(whole.journal_lines) == 21
    assert [r["project"] for r in whole.journal_lines if r["account"] == "6200"] == [
        "APOLLO" if n % 2 else None for n in range(1, 8)
    ]
    review = pq.read_table(tmp_path / "r.parquet").cast(REVIEW_QUEUE).to_pylist()
    assert review == whole.review and len(review) == 1
    explained = pq.read_table(tmp_path / "x.parquet").to_pylist()
    assert sorted(explained, key=lambda m: (m["invoice_id"], m["line_no"])) == sorted(
        whole.matched.cast(engine._plain(engine.MATCHED_LINES)).to_pylist(),
        key=lambda m: (m["invoice_id"], m["line_no"]),
    )
    assert (counts.invoices, counts.posted, counts.journal_lines, counts.review) == (8, 7, 21, 1)


@pytest.mark.parametrize(
    ("lines", "invoices"),
    [
        (["a", "a", "b", "c", "c"], ["a", "b", "c"]),  # in order, every invoice with lines
        (["a", "b", "a"], ["a", "b"]),  # lines not grouped
        (["a", "b", "a"], ["a", "b", "a"]),  # an invoice id twice
        (["a", "x", "c"], ["a", "b", "c"]),  # a line of an unknown invoice
        (["a", "c"], ["a", "b", "c"]),  # an invoice without lines
        (["c", "c", "a"], ["c", "a"]),  # grouped, not in order
        ([], ["a"]),
        (["a"], []),
    ],
)
def test_rows_of_is_index_in(lines, invoices):
    """Each line's invoice row, by runs when the chunk is in order, else by lookup: the
    same either way."""
    from closeflow.posting import engine

    col, values = pa.chunked_array([lines], pa.string()), pa.chunked_array([invoices], pa.string())
    got = engine._rows_of(col, values)
    assert got.type == pa.int32()
    assert got.to_pylist() == engine._index_in(col, values).to_pylist()
