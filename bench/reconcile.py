"""Benchmark: bank reconciliation of 1,000,000 bank lines against 1,000,000 open items.

Generates the data deterministically (seeded numpy, built column-wise with pyarrow) into
Parquet: 20,000 suppliers (EUR, USD, GBP, CHF and CNY; German, Austrian, British and
Swiss IBANs with valid check digits, US and Chinese account numbers), each with its own
invoice-number style (`RE-2026-0012345`, `INV-00123456`, `2026/0123456`, `F2026-0123456`,
a Chinese 8-digit number, `SI-26-0123456`), a third of the items with an RF creditor
reference, amounts from 5.00 to 900,000.00 and a few credit notes. The bank lines pay
them with the noise of real remittance texts:

- 58 % name one item in a longer text (`Payment RE-2026-0012345 thank you`, `Rechnung
  Nr. f2026 0123456 vom 03.11.2026`, `付款 发票号码00123456`, RF references in groups of
  four), in upper or lower case, with separators kept, dropped or made spaces, and pay
  exactly what is open;
- 5 % pay two or three invoices of the same supplier in one amount; 3 % pay an invoice
  less a fee within the tolerance; 4 % pay part of one; 3 % name it with one digit
  wrong; 3 % carry it in the end-to-end id only; 1 % drop its leading zeros (which the
  matcher does not read as the same reference: they stay in review);
- 8 % carry no reference but come from the supplier's IBAN, 3 % carry only the
  supplier's name (upper case or without the legal form), booked near the due date;
  every other line paying an item comes from the supplier's account (IBANs half of the
  time in groups of four), but for half of the typo'd ones (a payment service);
- 12 % are unrelated: customer receipts, salaries, tax, card settlements, bank fees.

Then, each in a fresh process so that the peak resident memory (getrusage) is the step's
own, inputs read from Parquet included:

- closeflow: `reconcile(bank_lines, open_items, run_id, policy, supplier_names,
  decisions)` as the nightly reconcile step calls it (the sample company's tolerance of
  250.00 and 2.5 %, every supplier's name and alias, no person's decisions yet); only the
  call is timed;
- the baseline: a DuckDB hash join of the lines to the items on the exact reference:
  each item's invoice number and payment reference normalised (letters and digits, upper
  case) as join keys; each line's remittance text and end-to-end id split at white space
  into tokens normalised the same way; the tokens joined to the keys, and the pairs
  whose amount pays the item exactly counted. It finds a reference written as one token
  (`RE-2026-0012345`, `re20260012345`), not one split by spaces (`RF18 5390 0754 7034`),
  nor typos, IBANs, names, partial or combined payments: it is the floor of what a join
  costs, not the same work.

The same is run on twice the data (2x lines and 2x items) for the growth ratio. Prints
the seconds and peak MiB of each, the matches by rule, how many auto matches settle the
invoice the generator meant, an md5 over everything reconcile returned (matches, the
unmatched lines, the review items) to compare code changes with, and the load average;
the last line is the summary. Never fails: it prints.

    python bench/reconcile.py [--lines 1000000] [--items N] [--no-double] [--profile]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

SUPPLIERS = 20_000
CURRENCIES = ["EUR", "USD", "GBP", "CHF", "CNY"]
CURRENCY_SHARE = [0.75, 0.10, 0.05, 0.04, 0.06]
STEMS = (
    "Nordwind Suedstern Alpen Rhein Elbe Donau Havel Spree Main Weser Ostsee Harz Eifel "
    "Taunus Allgaeu Bergland Waldblick Sonnen Blau Gruen Rot Stahl Kupfer Silber Gold "
    "Atlas Orion Vega Nova Polar Delta Sigma Omega Apex Summit Crown Bridge Harbor Meadow "
    "Falcon Eagle Lion Oak Cedar Maple Pine Willow River Lake Stone Iron Swift Bright "
    "Clear Prime Core Vertex Zenith Lumen"
).split()
TRADES = (
    "Logistik Maschinenbau Elektro Software Consulting Druck Verpackung Reinigung Bau "
    "Catering Energie Telekom Medien Moebel Papier Chemie Textil Glas Holz Metall "
    "Transport Spedition Sicherheit Personal Werbung Optik Labor Pharma Agrar Handel"
).split()
PLACES = (
    "Berlin Hamburg Muenchen Koeln Frankfurt Stuttgart Leipzig Dresden Wien Graz Zuerich "
    "Basel London Leeds Paris Lyon Amsterdam Rotterdam Madrid Shanghai"
).split()
FORMS = {  # legal forms by the supplier's currency
    "EUR": ["GmbH", "AG", "GmbH & Co. KG", "SARL", "B.V."],
    "USD": ["Inc.", "LLC"],
    "GBP": ["Ltd", "PLC"],
    "CHF": ["AG", "GmbH"],
    "CNY": ["有限公司", "Co., Ltd."],
}
TEMPLATES = [  # (before, after) the reference in a remittance text
    ("Payment ", " thank you"),
    ("Zahlung ", ""),
    ("SEPA-Ueberweisung RE ", " Kd-Nr 4711"),
    ("Invoice ", " / order 55120"),
    ("Rechnung Nr. ", " vom 03.11.2026"),
    ("Facture ", " merci"),
    ("付款 发票号码", ""),
    ("", ""),
    ("Pmt ", " ref"),
    ("Betaling factuur ", ""),
    ("Pago factura ", " gracias"),
    ("/ROC/", "/RFB/ITEM"),
]
NO_REFERENCE_TEXTS = ["Sammelueberweisung", "Payment thank you", "Lieferung Oktober",
                      "Zahlung lt. Vereinbarung", "货款", "Monthly settlement"]  # fmt: skip
UNRELATED = [  # (counterparty, text, money in?)
    ("Kunde Weber GmbH", "Kunde 10234 Rechnung AR-2026-001234", True),
    ("Acme Retail Ltd", "Remittance AR2026-77812 customer 5531", True),
    ("Mitarbeiter Lohnlauf", "Gehalt 11/2026 Personalnr 0815", False),
    ("Finanzamt Berlin", "USt-VA 10/2026 Steuernr 27/123/45678", False),
    ("VISA Card Services", "VISA Abrechnung 11/2026 Karte 4921", False),
    ("Hausbank", "Kontofuehrung Entgelt 11/2026", False),
]
KINDS = {  # share of the bank lines
    "exact": 0.58,
    "several": 0.05,
    "fee": 0.03,
    "partial": 0.04,
    "typo": 0.03,
    "end_to_end": 0.03,
    "leading_zeros": 0.01,
    "iban_only": 0.08,
    "name_only": 0.03,
    "unrelated": 0.12,
}
TOLERANCE, TOLERANCE_PERCENT = Decimal("250.00"), Decimal("2.5")  # the sample company's
RUN_ID = "reconcile:bench"
MIB = 1024 * 1024


def _mod97_digits(country: str) -> int:
    """The country code as ISO 7064 digits followed by "00" (DE -> 131400)."""
    return int("".join(str(ord(c) - 55) for c in country) + "00")


def iban(country: str, bank: str, account, width: int):
    """IBANs `country` + check digits + `bank` + `account` (int64 array) padded to `width`
    digits, with valid ISO 13616 check digits (mod 97), as a pyarrow string array."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    bank_digits = int("".join(str(int(c, 36)) for c in bank))
    m = (bank_digits % 97) * pow(10, width, 97) % 97
    m = (m + account % 97) % 97
    tail = _mod97_digits(country)
    m = (m * pow(10, len(str(tail)), 97) + tail) % 97
    check = (98 - m).astype(np.int64)
    acct = pc.utf8_lpad(pa.array(account).cast(pa.string()), width, "0")
    chk = pc.utf8_lpad(pa.array(check).cast(pa.string()), 2, "0")
    return pc.binary_join_element_wise(country, chk, bank, acct, "")


def rf_reference(number):
    """ISO 11649 creditor references `RF` + check digits + `number` (int64 array, 12
    digits), as a pyarrow string array."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    tail = _mod97_digits("RF")  # RF00 moved to the end: 271500
    check = (98 - ((number % 97) * 10**6 + tail) % 97).astype(np.int64)
    digits = pc.utf8_lpad(pa.array(number).cast(pa.string()), 12, "0")
    chk = pc.utf8_lpad(pa.array(check).cast(pa.string()), 2, "0")
    return pc.binary_join_element_wise("RF", chk, digits, "")


def money(cents):
    """Integer cents (int64) as MONEY, exactly: decimal128(18, 2), never a float."""
    import pyarrow as pa
    import pyarrow.compute as pc

    d = pa.array(cents, pa.int64()).cast(pa.decimal128(19, 0))
    return pc.multiply(d, pa.scalar(Decimal("0.01"), pa.decimal128(3, 2))).cast(
        pa.decimal128(18, 2)
    )


def hex_ids(rng, n: int, prefix: str = ""):
    """`n` random 32-hex-digit ids (like the warehouse's sha256-based ones)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    raw = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    digits = np.frombuffer(b"0123456789abcdef", np.uint8)
    text = np.empty((n, 32), np.uint8)
    text[:, 0::2], text[:, 1::2] = digits[raw >> 4], digits[raw & 15]
    ids = pa.array(text.view("S32").ravel()).cast(pa.string())
    return pc.binary_join_element_wise(prefix, ids, "") if prefix else ids


def pick(rng, choices, n: int, p=None):
    """`n` draws of `choices` as a pyarrow array (the draws' indices taken from it)."""
    import pyarrow as pa

    idx = rng.choice(len(choices), n, p=p)
    return pa.array(choices).take(pa.array(idx)), idx


def suppliers(rng):
    """The supplier master: id, name, alias, currency, account and invoice-number style."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = SUPPLIERS
    ccy_idx = rng.choice(len(CURRENCIES), n, p=CURRENCY_SHARE)
    currency = np.array(CURRENCIES)[ccy_idx]
    form = np.empty(n, object)
    for c, forms in FORMS.items():
        at = currency == c
        form[at] = np.array(forms, object)[rng.integers(0, len(forms), at.sum())]
    stem = np.array(STEMS)[rng.integers(0, len(STEMS), n)]
    trade = np.array(TRADES)[rng.integers(0, len(TRADES), n)]
    place = np.array(PLACES)[rng.integers(0, len(PLACES), n)]
    alias = pa.array(np.char.add(np.char.add(stem, " "), trade))
    name = pc.binary_join_element_wise(alias, pa.array(place), pa.array(form), " ")
    account = pa.array(np.full(n, None, object), pa.string())
    number = rng.integers(10**9, 10**10, n)  # account numbers, 10 digits
    for c, (country, bank, width) in {
        "EUR": ("DE", "37040044", 10),
        "GBP": ("GB", "NWBK601613", 8),
        "CHF": ("CH", "00762", 12),
    }.items():
        at = pa.array(currency == c)
        account = pc.if_else(at, iban(country, bank, number % 10**width, width), account)
    austrian = pa.array((currency == "EUR") & (rng.random(n) < 0.2))
    account = pc.if_else(austrian, iban("AT", "19043", number % 10**11, 11), account)
    us = pa.array(number).cast(pa.string())
    cn = pc.binary_join_element_wise("6222021", pa.array(number).cast(pa.string()), "")
    account = pc.if_else(pa.array(currency == "USD"), us, account)
    account = pc.if_else(pa.array(currency == "CNY"), cn, account)
    style = np.where(currency == "CNY", 4, rng.choice([0, 1, 2, 3, 5], n))
    return pa.table(
        {
            "supplier_id": pc.binary_join_element_wise(
                "SUP-", pc.utf8_lpad(pa.array(np.arange(n)).cast(pa.string()), 5, "0"), ""
            ),
            "supplier_name": name,
            "alias": alias,
            "currency": pa.array(currency),
            "account": account,
            "style": pa.array(style),
        }
    )


def invoice_numbers(style, seq):
    """Invoice numbers in each supplier's style, from a number unique per item."""
    import pyarrow as pa
    import pyarrow.compute as pc

    s7 = pc.utf8_lpad(pa.array(seq % 10**7).cast(pa.string()), 7, "0")
    s8 = pc.utf8_lpad(pa.array(seq % 10**8).cast(pa.string()), 8, "0")
    forms = [
        pc.binary_join_element_wise("RE-2026-", s7, ""),
        pc.binary_join_element_wise("INV-", s8, ""),
        pc.binary_join_element_wise("2026/", s7, ""),
        pc.binary_join_element_wise("F2026-", s7, ""),
        s8,
        pc.binary_join_element_wise("SI-26-", s7, ""),
    ]
    out = forms[0]
    for k, form in enumerate(forms[1:], start=1):
        out = pc.if_else(pa.array(style == k), form, out)
    return out


def open_items(rng, n: int, sup):
    """`n` open items (OPEN_ITEMS) of the suppliers `sup`, as a table."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from closeflow.schemas import OPEN_ITEMS

    who = rng.integers(0, SUPPLIERS, n)
    style = sup.column("style").to_numpy()[who]
    seq = rng.permutation(n) + 12_345
    cents = np.clip(np.exp(rng.normal(6.5, 1.3, n)) * 100, 500, 90_000_000).astype(np.int64)
    cents = np.where(rng.random(n) < 0.015, -cents, cents)  # credit notes
    currency = sup.column("currency").take(pa.array(who))
    rf = (currency.to_numpy(zero_copy_only=False) == "EUR") & (rng.random(n) < 0.45)
    reference = pc.if_else(
        pa.array(rf),
        rf_reference((seq * 7_919_993 + 123_456_789) % 10**12),
        pa.nulls(n, pa.string()),
    )
    due = np.datetime64("2026-01-15") + rng.integers(0, 330, n)
    table = pa.table(
        {
            "item_id": hex_ids(rng, n),
            "supplier_id": sup.column("supplier_id").take(pa.array(who)),
            "supplier_name": sup.column("supplier_name").take(pa.array(who)),
            "supplier_account": sup.column("account").take(pa.array(who)),
            "invoice_number": invoice_numbers(style, seq),
            "payment_reference": reference,
            "due_date": pa.array(due.astype("datetime64[D]"), pa.date32()),
            "amount_open": money(cents),
            "currency": currency,
            "ap_account": pa.array(np.full(n, "1600")),
        }
    )
    return table.cast(OPEN_ITEMS), who, cents


def with_typo(refs, rng):
    """`refs` with one of their last six characters (digits in every style) changed to
    another digit: a one-character typo."""
    import numpy as np
    import pyarrow as pa

    arr = np.array(refs.to_pylist(), dtype="U24")
    codes = arr.view(np.uint32).reshape(len(arr), 24)
    length = np.char.str_len(arr)
    pos = length - 1 - rng.integers(0, 6, len(arr))
    rows = np.arange(len(arr))
    digit = codes[rows, pos] - ord("0")
    codes[rows, pos] = ord("0") + (digit + rng.integers(1, 10, len(arr))) % 10
    return pa.array(arr)


def written(refs, rng):
    """`refs` as people write them: as printed, lower case, separators dropped or made
    spaces, RF references in groups of four."""
    import pyarrow as pa
    import pyarrow.compute as pc

    how = pa.array(rng.choice(5, len(refs), p=[0.45, 0.15, 0.15, 0.15, 0.10]))
    grouped = pc.utf8_rtrim_whitespace(pc.replace_substring_regex(refs, r"(\w{4})", r"\1 "))
    grouped = pc.if_else(pc.starts_with(refs, "RF"), grouped, refs)
    out = refs
    for k, form in enumerate(
        [
            pc.utf8_lower(refs),
            pc.replace_substring_regex(refs, r"[-/]", ""),
            pc.replace_substring_regex(refs, r"[-/]", " "),
            grouped,
        ],
        start=1,
    ):
        out = pc.if_else(pc.equal(how, k), form, out)
    return out


def bank_lines(rng, m: int, items, who, cents, sup):
    """`m` bank lines (BANK_LINES) paying `items` with realistic noise, and the truth:
    per line its kind and the items it was generated to pay."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from closeflow.schemas import BANK_LINES

    n = items.num_rows
    kind_names = list(KINDS)
    kind = rng.choice(len(kind_names), m, p=list(KINDS.values()))
    is_ = {k: kind == kind_names.index(k) for k in kind_names}
    k_items = np.where(is_["several"], rng.integers(2, 4, m), 1)
    k_items[is_["unrelated"]] = 0
    # items paid in supplier order, so that a combined payment names one supplier's items
    by_supplier = np.lexsort((rng.random(n), who))
    start = np.cumsum(k_items) - k_items
    first = by_supplier[start % n]
    second = by_supplier[(start + 1) % n]
    third = by_supplier[(start + 2) % n]
    owed = cents[first]
    owed_k = (
        owed + np.where(k_items >= 2, cents[second], 0) + np.where(k_items >= 3, cents[third], 0)
    )
    fee = np.minimum(rng.integers(50, 1500, m), owed // 50)
    part = (owed * rng.uniform(0.3, 0.9, m)).astype(np.int64)
    paid = np.select(
        [is_["several"], is_["fee"] & (owed > 0), is_["partial"]], [owed_k, owed - fee, part], owed
    )
    unrelated = rng.integers(0, len(UNRELATED), m)
    money_in = np.array([u[2] for u in UNRELATED])[unrelated]
    other = np.clip(np.exp(rng.normal(7, 1.5, m)) * 100, 100, 50_000_000).astype(np.int64)
    amount = np.where(is_["unrelated"], np.where(money_in, other, -other), -paid)

    def of(column: str, rows):
        return items.column(column).take(pa.array(rows))

    use_rf = pc.and_(pc.is_valid(of("payment_reference", first)), pa.array(rng.random(m) < 0.8))
    ref1 = pc.if_else(use_rf, of("payment_reference", first), of("invoice_number", first))
    ref1 = pc.if_else(pa.array(is_["typo"]), with_typo(ref1, rng), ref1)
    dropped = pc.replace_substring_regex(
        pc.replace_substring_regex(ref1, r"([-/])0+", r"\1"), r"^0+", ""
    )
    ref1 = pc.if_else(pa.array(is_["leading_zeros"]), dropped, ref1)
    refs = pc.binary_join_element_wise(
        written(ref1, rng),
        pc.if_else(pa.array(k_items >= 2), of("invoice_number", second), pa.nulls(m, pa.string())),
        pc.if_else(pa.array(k_items >= 3), of("invoice_number", third), pa.nulls(m, pa.string())),
        ", ",
        null_handling="skip",
    )
    template = rng.integers(0, len(TEMPLATES), m)
    text = pc.binary_join_element_wise(
        pa.array([t[0] for t in TEMPLATES]).take(pa.array(template)),
        refs,
        pa.array([t[1] for t in TEMPLATES]).take(pa.array(template)),
        "",
    )
    no_ref_text, _ = pick(rng, NO_REFERENCE_TEXTS, m)
    without = is_["end_to_end"] | is_["iban_only"] | is_["name_only"]
    text = pc.if_else(pa.array(without), no_ref_text, text)
    text = pc.if_else(
        pa.array(is_["unrelated"]),
        pa.array([u[1] for u in UNRELATED]).take(pa.array(unrelated)),
        text,
    )
    e2e = pc.if_else(
        pa.array(rng.random(m) < 0.5), pa.scalar("NOTPROVIDED"), pa.nulls(m, pa.string())
    )
    e2e = pc.if_else(pa.array(is_["end_to_end"]), pc.utf8_upper(ref1), e2e)

    supplier = who[first]
    name = sup.column("supplier_name").take(pa.array(supplier))
    alias = sup.column("alias").take(pa.array(supplier))
    name_written = pc.if_else(pa.array(rng.random(m) < 0.5), pc.utf8_upper(name), alias)
    name = pc.if_else(pa.array(is_["name_only"]), name_written, name)
    name = pc.if_else(
        pa.array(is_["unrelated"]),
        pa.array([u[0] for u in UNRELATED]).take(pa.array(unrelated)),
        name,
    )
    account = sup.column("account").take(pa.array(supplier))
    spaced = pc.utf8_rtrim_whitespace(pc.replace_substring_regex(account, r"(\w{4})", r"\1 "))
    spaced = pc.if_else(pc.match_substring_regex(account, r"^[A-Z]{2}\d\d"), spaced, account)
    account = pc.if_else(pa.array(rng.random(m) < 0.5), spaced, account)  # IBANs in groups
    foreign = iban("DE", "50010517", rng.integers(0, 10**10, m), 10)
    account = pc.if_else(pa.array(is_["unrelated"]), foreign, account)
    # a name only, or a typo'd reference paid through a payment service: no supplier account
    hidden = is_["name_only"] | (is_["typo"] & (rng.random(m) < 0.5))
    account = pc.if_else(pa.array(hidden), pa.nulls(m, pa.string()), account)

    currency = pc.if_else(
        pa.array(is_["unrelated"]),
        pa.array(CURRENCIES).take(pa.array(rng.choice(len(CURRENCIES), m, p=CURRENCY_SHARE))),
        of("currency", first),
    )
    due = of("due_date", first).cast(pa.int32()).to_numpy()
    booked = due + rng.integers(-20, 26, m)
    booked = np.where(is_["name_only"], due + rng.integers(-10, 11, m), booked)
    booked = np.clip(booked, 20_454, 20_819)  # 2026-01-01 .. 2026-12-31

    # one statement per account (currency) and day; lines numbered within it
    ccy_idx = pc.index_in(currency, pa.array(CURRENCIES)).to_numpy()
    key = ccy_idx * 100_000 + booked
    order = np.lexsort((rng.random(m), key))
    sorted_key = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
    group_start = np.zeros(m, np.int64)
    group_start[starts] = starts
    position = np.empty(m, np.int64)
    position[order] = np.arange(m) - np.maximum.accumulate(group_start) + 1
    day = pa.array(booked.astype(np.int32)).cast(pa.date32())
    statement = pc.binary_join_element_wise(
        "ACC-", currency, "-", pc.strftime(day.cast(pa.timestamp("s")), "%Y%m%d"), ""
    )
    line_id = pc.binary_join_element_wise(statement, pa.array(position).cast(pa.string()), ":")
    table = pa.table(
        {
            "line_id": line_id,
            "statement_id": statement,
            "booking_date": day,
            "value_date": day,
            "amount": money(amount),
            "currency": currency,
            "counterparty_name": name,
            "counterparty_account": account,
            "remittance_info": text,
            "bank_reference": pc.binary_join_element_wise(
                "BR", pa.array(rng.integers(10**11, 10**12, m)).cast(pa.string()), ""
            ),
            "end_to_end_id": e2e,
        }
    ).cast(pa.schema([BANK_LINES.field(c) for c in BANK_LINES.names[:11]]))
    intended = [
        pc.if_else(pa.array(k_items >= k), of("item_id", rows), pa.nulls(m, pa.string()))
        for k, rows in ((1, first), (2, second), (3, third))
    ]
    truth = pa.table(
        {
            "line_id": line_id,
            "kind": pa.array(np.array(kind_names)[kind]),
            "item_1": intended[0],
            "item_2": intended[1],
            "item_3": intended[2],
        }
    )
    return table, truth


def generate(folder: Path, n_lines: int, n_items: int, seed: int = 7) -> None:
    """The bank lines, open items, supplier names and the truth, as Parquet and JSON."""
    import numpy as np
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    sup = suppliers(rng)
    items, who, cents = open_items(rng, n_items, sup)
    lines, truth = bank_lines(rng, n_lines, items, who, cents, sup)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(items, folder / "open_items.parquet")
    pq.write_table(lines, folder / "bank_lines.parquet")
    pq.write_table(truth, folder / "truth.parquet")
    names = dict(
        zip(
            sup.column("supplier_id").to_pylist(),
            zip(
                sup.column("supplier_name").to_pylist(),
                sup.column("alias").to_pylist(),
                strict=True,
            ),
            strict=True,
        )
    )
    (folder / "supplier_names.json").write_text(json.dumps(names, ensure_ascii=False))


def result_digest(result) -> str:
    """An md5 over everything `reconcile` returned: the matches row by row, the unmatched
    lines' ids and the review items, so two versions of the code can be compared."""
    h = hashlib.md5()
    for row in zip(*(c.to_pylist() for c in result.matches.columns), strict=True):
        h.update(repr(row).encode())
    h.update(repr(result.unmatched_lines.column("line_id").to_pylist()).encode())
    for r in result.review:
        h.update(repr(sorted(r.items())).encode())
    return h.hexdigest()


def run_reconcile(folder: Path, profile: bool = False) -> dict:
    """The nightly step's call of `reconcile` on the Parquet in `folder`; only the call is
    timed, and the peak is read before the digest is made."""
    import pyarrow.parquet as pq

    from closeflow.reconcile import MatchPolicy, PersonDecisions, reconcile

    lines = pq.read_table(folder / "bank_lines.parquet")
    items = pq.read_table(folder / "open_items.parquet")
    saved = json.loads((folder / "supplier_names.json").read_text())
    names = {supplier: tuple(aliases) for supplier, aliases in saved.items()}
    policy = MatchPolicy(
        tolerance=TOLERANCE,
        tolerance_percent=TOLERANCE_PERCENT,
        underpaid_account="8999",
        overpaid_account="6900",
    )
    args = (lines, items, RUN_ID, policy, names, PersonDecisions())
    if profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        t0 = time.perf_counter()
        result = prof.runcall(reconcile, *args)
        seconds = time.perf_counter() - t0
        pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
    else:
        t0 = time.perf_counter()
        result = reconcile(*args)
        seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pq.write_table(result.matches, folder / "matches.parquet")
    return {
        "seconds": seconds,
        "peak_mib": peak,
        "matches": result.matches.num_rows,
        "unmatched": result.unmatched_lines.num_rows,
        "review": len(result.review),
        "digest": result_digest(result),
    }


def run_baseline(folder: Path) -> dict:
    """The DuckDB hash join on the exact reference (the module docstring says what it
    finds); reading the Parquet is included."""
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    [(pairs, exact)] = con.execute(
        f"""
        WITH keys AS (
            SELECT item_id, amount_open, currency,
                   regexp_replace(upper(ref), '[^A-Z0-9]', '', 'g') AS key
            FROM read_parquet('{folder / "open_items.parquet"}'),
                 unnest([invoice_number, payment_reference]) AS t(ref)
            WHERE ref IS NOT NULL
        ),
        tokens AS (
            SELECT line_id, amount, currency,
                   regexp_replace(upper(token), '[^A-Z0-9]', '', 'g') AS key
            FROM read_parquet('{folder / "bank_lines.parquet"}'),
                 unnest(string_split_regex(
                     coalesce(remittance_info, '') || ' ' || coalesce(end_to_end_id, ''),
                     '\\s+')) AS t(token)
        )
        SELECT count(*), count(*) FILTER (WHERE t.amount = -k.amount_open)
        FROM tokens t JOIN keys k ON k.key = t.key AND k.currency = t.currency
        WHERE length(t.key) >= 4
        """
    ).fetchall()
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "pairs": pairs,
        "exact": exact,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def agreement(folder: Path) -> dict:
    """Matches by rule and status, and how many auto matches settle an item the generator
    meant the line to pay (the truth)."""
    import duckdb

    con = duckdb.connect()
    m, t = folder / "matches.parquet", folder / "truth.parquet"
    by_rule = con.execute(
        f"SELECT rule, status, count(*) FROM '{m}' GROUP BY ALL ORDER BY 3 DESC"
    ).fetchall()
    [(auto, right)] = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE m.item_id IN (t.item_1, t.item_2, t.item_3))
            FROM '{m}' m JOIN '{t}' t ON t.line_id = m.bank_line_id
            WHERE m.status = 'auto'"""
    ).fetchall()
    return {"by_rule": by_rule, "auto": auto, "right": right}


def _child(step: str, folder: Path, profile: bool = False) -> dict:
    cmd = [sys.executable, __file__, "--child", step, "--keep", str(folder)]
    out = subprocess.run(
        cmd + (["--profile"] if profile else []), capture_output=True, text=True, check=False
    )
    if profile or out.returncode != 0:
        print(out.stderr, file=sys.stderr)
    if out.returncode != 0:
        return {}
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(folder: Path, n_lines: int, n_items: int, baseline: bool, profile: bool) -> dict:
    """Generate into `folder`, then run reconcile (and the baseline) each in a fresh process."""
    t = time.perf_counter()
    generate(folder, n_lines, n_items)
    print(f"generated {n_lines:,} bank lines, {n_items:,} open items "
          f"in {time.perf_counter() - t:.1f} s")  # fmt: skip
    ours = _child("reconcile", folder, profile)
    if ours:
        agree = agreement(folder)
        rules = ", ".join(f"{r} {s} {c:,}" for r, s, c in agree["by_rule"])
        print(
            f"  reconcile: {ours['seconds']:.1f} s, peak {ours['peak_mib']:,.0f} MiB "
            f"(process, inputs included); {ours['matches']:,} matches ({rules}); "
            f"{ours['unmatched']:,} lines unmatched, {ours['review']:,} review items"
        )
        print(
            f"  auto matches settling an invoice the generator meant: "
            f"{agree['right']:,} of {agree['auto']:,}; result md5 {ours['digest']}"
        )
    base = _child("baseline", folder) if baseline else {}
    if base:
        print(
            f"  baseline: {base['seconds']:.2f} s, peak {base['peak_mib']:,.0f} MiB: DuckDB "
            f"hash join on the exact reference token (Parquet read included), "
            f"{base['pairs']:,} pairs, {base['exact']:,} paying exactly"
        )
    return {"ours": ours, "base": base}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--items", type=int, help="open items (default: as many as lines)")
    ap.add_argument("--no-double", action="store_true", help="skip the 2x data run")
    ap.add_argument("--profile", action="store_true", help="cProfile reconcile (stderr)")
    ap.add_argument("--keep", help="folder for the generated data (default: a temp dir)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        folder = Path(args.keep)
        fn = run_baseline(folder) if args.child == "baseline" else None
        print(json.dumps(fn or run_reconcile(folder, args.profile)))
        return
    n_lines, n_items = args.lines, args.items or args.lines
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="closeflow-bench-") as tmp:
        root = Path(args.keep or tmp)
        one = measure(root / "1x", n_lines, n_items, True, args.profile)
        two = {} if args.no_double else measure(root / "2x", 2 * n_lines, 2 * n_items, False, False)
    ours, base = one["ours"], one["base"]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {' '.join(f'{x:.2f}' for x in load_before)} before, {load} after "
          f"(2 cores shared; target <= 30 s and <= 4,096 MiB on 2 cores)")  # fmt: skip
    if not ours:
        print(f"reconcile: failed on {n_lines:,} bank lines x {n_items:,} open items")
        return
    ratio = f"{ours['seconds'] / base['seconds']:.1f}" if base else "n/a"
    growth = f"{two['ours']['seconds'] / ours['seconds']:.2f}" if two and two.get("ours") else "n/a"
    print(
        f"reconcile: {n_lines:,} bank lines x {n_items:,} open items in "
        f"{ours['seconds']:.1f} s, peak {ours['peak_mib']:,.0f} MiB, ratio {ratio} to the "
        f"DuckDB join, 2x data {growth} x time"
    )


if __name__ == "__main__":
    main()
