"""Benchmark: memory and time of reading a 50 MB bank CSV statement, per bank layout.

Generates, in a temp dir, one CSV of about 50 MB (seeded, so every run reads the same
bytes) in each of three banks' layouts:

- `de`: a German savings bank's export (CSV-CAMT style): Windows-1252, `;`, every cell
  quoted, dates `dd.mm.yy` newest first, decimal comma, the account in a column,
  Buchungstext and Verwendungszweck (joined), counterparty name and IBAN;
- `uk`: a British building society's: UTF-8, `,`, an account preamble above the header,
  dates `05 Jan 2026`, amounts `£1,234.56` in "Paid out" / "Paid in" columns, and a
  running balance that closeflow checks row by row;
- `us`: an American bank's: UTF-8, `,`, dates `MM/DD/YYYY` (the order is decided from the
  whole file), a signed amount and a running balance.

Then, each in a fresh process so that the peak is the step's own:

- closeflow: `parse_statements` (as `closeflow bank parse` and the nightly import read a
  file: encoding detection, date order, decimals, balance checks, line keys) and
  `lines_table`, the Arrow table the nightly import writes;
- the baseline: `pyarrow.csv.read_csv` of the same file into string columns (the file as
  a table, nothing parsed or checked).

Peak memory is the process's peak resident set (getrusage) above its resident set after
the imports (the interpreter, pyarrow and closeflow loaded, nothing read yet). Prints per
layout the rows, seconds, peak MiB and its ratio to the file's size, and the baseline's;
the last line is the summary. Never fails: it prints.

    python bench/statement_memory.py [--mb 50] [--layouts de,uk,us] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIB = 1024 * 1024

NAMES = [
    "Stadtwerke München GmbH", "Müller & Söhne KG", "Bäckerei Schäfer", "Deutsche Telekom AG",
    "Allianz Versicherungs-AG", "Finanzamt Köln-Süd", "Gehalt Jörg Weiß", "REWE Markt GmbH",
    "Büroservice Großmann", "Lufthansa AG", "Amazon EU S.a.r.l.", "Vodafone GmbH",
    "Krankenkasse AOK Nordwest", "Hausverwaltung Kühn", "Energie Südbayern", "DATEV eG",
]  # fmt: skip
PURPOSES = [
    "Rechnung {n} vom {d}", "Miete Büro {m}", "Lastschrift Mandat {n}", "Gehalt {m}",
    "Gutschrift Überweisung {n}", "Kartenzahlung {d} Filiale {n}", "Beitrag Q{q} {y}",
    "Umsatzsteuer-Vorauszahlung {m}", "Erstattung Auslagen {n}", "SEPA-Überweisung RE-{n}",
]  # fmt: skip
BOOKING_TEXTS = ["FOLGELASTSCHRIFT", "GUTSCHR. UEBERWEISUNG", "ONLINE-UEBERWEISUNG",
                 "KARTENZAHLUNG", "DAUERAUFTRAG", "LOHN  GEHALT", "ABSCHLUSS"]  # fmt: skip
EN_NAMES = [
    "Tesco Stores Ltd", "HMRC VAT", "British Gas", "Thames Water", "Acme Widgets plc",
    "O'Neill Consulting", "Amazon Web Services", "Payroll - J Smith", "Royal Mail",
    "Staples UK", "Virgin Media", "Costa Coffee", "Landlord Properties LLP", "DHL Express",
]  # fmt: skip
EN_PURPOSES = ["INV-{n}", "Invoice {n} payment", "Ref {n} {m}", "Salary {m}",
               "Direct Debit {n}", "Card payment {d}", "Standing order {m}"]  # fmt: skip
TYPES = ["ACH_DEBIT", "ACH_CREDIT", "DEBIT_CARD", "CHECK_DEPOSIT", "WIRE_OUTGOING", "FEE"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _money(rng: random.Random) -> int:
    """A signed amount in cents: mostly small payments, some large, receipts rarer."""
    cents = int(rng.lognormvariate(9.0, 1.6)) + 1
    return cents if rng.random() < 0.35 else -cents


def _text(rng: random.Random, day: dt.date, purposes: list[str]) -> str:
    return rng.choice(purposes).format(
        n=rng.randint(10000, 99999999),
        d=day.strftime("%d.%m."),
        m=day.strftime("%m/%Y"),
        q=(day.month - 1) // 3 + 1,
        y=day.year,
    )


def _de_amount(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", ".") + f",{frac:02d}"


def _uk_amount(cents: int) -> str:
    whole, frac = divmod(abs(cents), 100)
    return f"£{whole:,}.{frac:02d}"


def _us_amount(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def _days(rng: random.Random, rows: int) -> list[dt.date]:
    """`rows` booking dates running through 2026 in order, several a day."""
    start = dt.date(2025, 1, 1)
    span = 730
    return [start + dt.timedelta(days=i * span // rows) for i in range(rows)]


def generate(layout: str, path: Path, megabytes: float, seed: int = 7) -> dict:
    """Write a statement of about `megabytes` in `layout`; return what it is for the reader."""
    rng = random.Random(seed)
    target = int(megabytes * MIB)
    est_row = {"de": 234, "uk": 98, "us": 84}[layout]
    rows = target // est_row
    days = _days(rng, rows)
    out: list[str] = []
    if layout == "de":
        encoding, account, currency = "cp1252", "DE44500105175407324931", "EUR"
        cols = ["Auftragskonto", "Buchungstag", "Valutadatum", "Buchungstext",
                "Verwendungszweck", "Glaeubiger ID", "Mandatsreferenz",
                "Kundenreferenz (End-to-End)", "Sammlerreferenz",
                "Lastschrift Ursprungsbetrag", "Auslagenersatz Ruecklastschrift",
                "Beguenstigter/Zahlungspflichtiger", "Kontonummer/IBAN", "BIC (SWIFT-Code)",
                "Betrag", "Waehrung", "Info"]  # fmt: skip
        out.append(";".join(f'"{c}"' for c in cols))
        for day in reversed(days):  # newest first
            cents = _money(rng)
            valued = day + dt.timedelta(days=rng.choice((0, 0, 0, 1, 2)))
            cells = [
                account, day.strftime("%d.%m.%y"), valued.strftime("%d.%m.%y"),
                rng.choice(BOOKING_TEXTS), _text(rng, day, PURPOSES),
                f"DE98ZZZ0{rng.randint(10**9, 10**10 - 1)}" if cents < 0 else "",
                f"M-{rng.randint(1000, 999999)}" if cents < 0 else "",
                f"E2E-{rng.randint(10**8, 10**9 - 1)}", "", "", "",
                rng.choice(NAMES), f"DE{rng.randint(10**19, 10**20 - 1)}",
                rng.choice(("COLSDE33XXX", "DEUTDEFFXXX", "BYLADEM1001")),
                _de_amount(cents), currency, "Umsatz gebucht",
            ]  # fmt: skip
            out.append(";".join(f'"{c}"' for c in cells))
        meta = {"delimiter": ";", "skip": 0}
    elif layout == "uk":
        encoding, account, currency = "utf-8", "20-45-67 41234567", "GBP"
        balance = 2_500_000
        out += [
            '"Account Name:","Business Current ****34567"',
            '"Account Balance:","£0.00"',
            '"Available Balance: ","£0.00"',
            "",
            '"Date","Transaction type","Description","Paid out","Paid in","Balance"',
        ]
        for day in days:
            cents = _money(rng)
            cents = abs(cents) if balance + cents < 0 else cents  # no overdraft
            balance += cents
            desc = f"{rng.choice(EN_NAMES)} {_text(rng, day, EN_PURPOSES)}"
            kind = rng.choice(("Direct debit", "Payment to", "Transfer from", "Visa purchase"))
            out_, in_ = (_uk_amount(cents), "") if cents < 0 else ("", _uk_amount(cents))
            date = f"{day.day:02d} {MONTHS[day.month - 1]} {day.year}"
            cells = [date, kind, desc, out_, in_, _uk_amount(balance)]
            out.append(",".join(f'"{c}"' for c in cells))
        meta = {"delimiter": ",", "skip": 4}
    else:
        encoding, account, currency = "utf-8", "US-CHK-001122", "USD"
        balance = 5_000_000
        out.append("Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #")
        for day in days:
            cents = _money(rng)
            cents = abs(cents) if balance + cents < 0 else cents  # no overdraft
            balance += cents
            desc = f"{rng.choice(EN_NAMES).upper()} {_text(rng, day, EN_PURPOSES)}"
            cells = ["DEBIT" if cents < 0 else "CREDIT", day.strftime("%m/%d/%Y"), desc,
                     _us_amount(cents), rng.choice(TYPES), _us_amount(balance),
                     str(rng.randint(1000, 9999)) if rng.random() < 0.02 else ""]  # fmt: skip
            out.append(",".join(f'"{c}"' if "," in c else c for c in cells))
        meta = {"delimiter": ",", "skip": 0}
    path.write_bytes(("\r\n".join(out) + "\r\n").encode(encoding))
    return {
        "path": str(path),
        "account": account,
        "currency": currency,
        "encoding": encoding,
        "rows": rows,
        **meta,
    }


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def child(what: str, spec: dict) -> dict:
    """Run in a fresh process: read the file, report rows, seconds and peak above base."""
    import gc

    import pyarrow as pa
    import pyarrow.csv as pacsv

    from closeflow.bank import lines_table, parse_statements

    gc.collect()
    base = _rss()
    t0 = time.perf_counter()
    if what == "closeflow":
        parsed = parse_statements(
            spec["path"], account_id=spec["account"], currency=spec["currency"]
        )
        table = lines_table(parsed)
        warnings = sum(len(p.warnings) for p in parsed)
    else:
        table = pacsv.read_csv(
            spec["path"],
            read_options=pacsv.ReadOptions(
                encoding=spec["encoding"], skip_rows=spec["skip"], block_size=1 << 20
            ),
            parse_options=pacsv.ParseOptions(delimiter=spec["delimiter"]),
            convert_options=pacsv.ConvertOptions(
                column_types={}, strings_can_be_null=False, auto_dict_encode=False
            ),
        )
        warnings = 0
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert isinstance(table, pa.Table)
    return {
        "rows": table.num_rows,
        "seconds": seconds,
        "peak": peak - base,
        "base": base,
        "warnings": warnings,
    }


def _run_child(what: str, spec: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", what, json.dumps(spec)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=50.0)
    ap.add_argument("--layouts", default="de,uk,us")
    ap.add_argument("--keep", help="write the files here and keep them")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], json.loads(args.child[1]))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        worst = None
        results = []
        for layout in args.layouts.split(","):
            spec = generate(layout, folder / f"statement_{layout}.csv", args.mb)
            size = Path(spec["path"]).stat().st_size
            ours = _run_child("closeflow", spec)
            base = _run_child("arrow", spec)
            if "error" in ours:
                print(f"{layout}: {size / MIB:.1f} MiB {spec['encoding']}: "
                      f"closeflow failed: {ours['error']}")  # fmt: skip
                results.append((layout, None))
                continue
            ratio = ours["peak"] / size
            base_ratio = base.get("peak", 0) / size
            print(
                f"{layout}: {size / MIB:.1f} MiB {spec['encoding']}, {ours['rows']:,} lines: "
                f"closeflow {ours['seconds']:.1f} s, peak {ours['peak'] / MIB:.0f} MiB "
                f"({ratio:.1f}x the file); pyarrow.csv.read_csv "
                f"{base.get('seconds', float('nan')):.1f} s, peak "
                f"{base.get('peak', 0) / MIB:.0f} MiB ({base_ratio:.1f}x)"
            )
            results.append((layout, ratio))
            if worst is None or ratio > worst[1]:
                worst = (layout, ratio, ours, size)
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        if worst is None:
            print(f"statement memory: no layout read (load {load})")
            return
        layout, ratio, ours, size = worst
        print(
            f"statement memory: {len(results)} layouts of {args.mb:.0f} MB, worst {layout} "
            f"peak {ours['peak'] / MIB:.0f} MiB = {ratio:.1f}x the file (target 5x), "
            f"{ours['seconds']:.1f} s; load {load}"
        )


if __name__ == "__main__":
    main()
