"""A hostile inbox: the files a reliability engineer drops to break a night.

Each builder writes real bytes (a PDF made with reportlab, a PNG whose header claims a
billion pixels, a symbolic link to /etc/passwd, ...) into a closeflow home, with the
modification time of the night it arrives in. The cases are examples of classes: a file
the pipeline cannot open, one it must not open, one whose values do not fit the ledger,
one that is the same invoice again, one whose name or text is markup.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas


def set_received(path: Path, at: dt.datetime) -> None:
    """When the mail integration dropped it (its modification time; links too)."""
    ts = at.timestamp()
    os.utime(path, (ts, ts), follow_symlinks=False)


def invoice_pdf(
    supplier: str,
    number: str,
    date: str,
    net: str,
    tax: str,
    total: str,
    *,
    note: str = "",
    password: str | None = None,
    address: str = "Hafenstraße 12, 20457 Hamburg",
    iban: str = "DE02 1203 0000 0000 2020 51",
) -> bytes:
    """A one-page digital invoice with a text layer, as a small supplier sends it."""
    from reportlab.lib.pdfencrypt import StandardEncryption

    buf = io.BytesIO()
    encrypt = StandardEncryption(password, canPrint=0) if password else None
    c = Canvas(buf, pagesize=A4, encrypt=encrypt, invariant=1)
    y = 270 * mm
    for size, text in [
        (16, supplier),
        (9, address),
        (9, ""),
        (14, "Rechnung"),
        (10, f"Rechnungsnummer: {number}"),
        (10, f"Rechnungsdatum: {date}"),
        (10, "Closeflow Demo GmbH, Jungfernstieg 1, 20354 Hamburg"),
        (10, ""),
        (10, f"Beratungsleistung Januar          {net} EUR"),
        (10, ""),
        (10, f"Nettobetrag: {net} EUR"),
        (10, f"MwSt 19 %: {tax} EUR"),
        (11, f"Gesamtbetrag: {total} EUR"),
        (9, ""),
        (9, f"IBAN: {iban}"),
        (9, note),
    ]:
        c.setFont("Helvetica", size)
        c.drawString(20 * mm, y, text)
        y -= size * 0.5 * mm + 3 * mm
    c.showPage()
    c.save()
    return buf.getvalue()


def truncated_jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (600, 800), "white").save(buf, "JPEG")
    return buf.getvalue()[:700]


def gbk_csv_statement(account: str, day: dt.date) -> bytes:
    """A Chinese bank's CSV export with English headers, in GBK."""
    rows = [
        "Date,Amount,Currency,Counterparty,Reference",
        f"{day:%Y-%m-%d},-1250.00,CNY,上海云帆信息技术有限公司,货款 支付",
        f"{day:%Y-%m-%d},-35.50,CNY,中国工商银行,手续费",
    ]
    return ("\r\n".join(rows) + "\r\n").encode("gbk")
