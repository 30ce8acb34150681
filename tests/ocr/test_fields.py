"""Labels near values, whatever the template: field extraction on hand-placed words."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ocr.fields import extract_fields
from ocr.layout import Word, build_lines


def page(*rows: tuple[float, str]) -> list[Word]:
    """Words of rows written at (y, "text at x=50, '|' jumps to the next column").

    Each '|' moves the pen to the next 150-point column; characters are 6 points wide.
    """
    words = []
    for y, row in rows:
        for column, cell in enumerate(row.split("|")):
            x = 50 + 150 * column
            for token in cell.split():
                words.append(Word(token, x, y, x + 6 * len(token), y + 10))
                x += 6 * len(token) + 3
    return words


def fields(*rows: tuple[float, str]) -> dict:
    found = extract_fields(build_lines(page(*rows)))
    return {name: f.value for name, f in found.values.items()}


def test_values_under_a_row_of_labels() -> None:
    got = fields(
        (100, "Invoice No.|Invoice Date:|Due Date:"),
        (114, "A-77|03/20/2023|04/05/2023"),
        (200, "Net|VAT|Total"),
        (214, "100.00|19.00|119.00"),
    )
    assert got["invoice_number"] == "A-77"
    assert got["invoice_date"] == dt.date(2023, 3, 20)
    assert got["due_date"] == dt.date(2023, 4, 5)  # the document writes month first
    assert (got["subtotal"], got["tax_amount"], got["total"]) == (
        Decimal("100.00"),
        Decimal("19.00"),
        Decimal("119.00"),
    )


def test_buyer_and_supplier_share_labels() -> None:
    got = fields(
        (60, "Acme Tools Ltd"),
        (74, "VAT ID: GB123456789"),
        (100, "Bill to: Closeflow Demo GmbH, VAT ID: DE272914250"),
        (140, "Invoice number: 9"),
        (300, "Total: 10.00 GBP"),
    )
    assert got["supplier_tax_id"] == "GB123456789"
    assert got["buyer_tax_id"] == "DE272914250"
    assert got["buyer_name"] == "Closeflow Demo GmbH"
    assert got["supplier_name"] == "Acme Tools Ltd"
    assert got["currency"] == "GBP"


def test_a_lone_money_label_over_a_column_takes_no_value_from_below() -> None:
    got = fields(
        (100, "Invoice number: 9|Description|VAT"),
        (114, "|Paper|19.00"),
        (300, "Total EUR 50.00"),
    )
    assert "tax_amount" not in got
    assert got["total"] == Decimal("50.00")


def test_subtotal_is_not_a_total_and_vat_id_is_not_a_tax() -> None:
    got = fields(
        (60, "VAT ID: DE123456788"),
        (100, "Invoice number: 9"),
        (200, "Subtotal 1.000,00"),
        (214, "MwSt. 19 % 190,00"),
        (228, "Gesamtbetrag 1.190,00 EUR"),
    )
    assert (got["subtotal"], got["tax_amount"], got["total"]) == (
        Decimal("1000.00"),
        Decimal("190.00"),
        Decimal("1190.00"),
    )
    assert got["currency"] == "EUR"


def test_skewed_words_still_make_one_line() -> None:
    # a 1-degree skew: each word 2.6 points lower than the one before
    words = [Word(t, 50 + 150 * i, 100 + 2.6 * i, 50 + 150 * i + 60, 110 + 2.6 * i)
             for i, t in enumerate(["Invoice", "number:", "INV-9", "Total:", "12.00"])]  # fmt: skip
    (line,) = build_lines(words)
    assert line.text.split() == ["Invoice", "number:", "INV-9", "Total:", "12.00"]


def test_ocr_misreads_with_a_single_reading_are_mended() -> None:
    got = fields(
        (60, "IBAN: DEOS 4306 0967 3962 3587 72"),  # check digits 05 read as "OS"
        (100, "Invoice number: 9|Total: 10.00 EUR"),
        (140, "纳税人识别号: 91310000MA1FL1MMOX"),  # no O in a credit code: it is 0
    )
    assert got["supplier_iban"] == "DE05430609673962358772"
    assert got["supplier_tax_id"] == "91310000MA1FL1MM0X"


def ocr_fields(*rows: tuple[float, str], conf: float = 0.9) -> dict:
    """`fields` as tesseract would give them: each row one OCR line, read `conf` sure."""
    words = [
        Word(w.text, w.x0, w.y0, w.x1, w.y1, conf=conf, run=(1, 1, int(w.y0))) for w in page(*rows)
    ]
    return extract_fields(build_lines(words)).values


def test_spanish_and_french_number_sign_misread() -> None:
    # "Factura nº:" as a 200 dpi JPEG scan reads it (es-scan5 of bench/ocr_accuracy.py)
    assert fields((100, "Factura n?:|FV-2026/0042"))["invoice_number"] == "FV-2026/0042"
    assert fields((100, "Facture n?:|FA-2026-0042"))["invoice_number"] == "FA-2026-0042"
    assert fields((100, "Factura n*:|FV-2026/0042"))["invoice_number"] == "FV-2026/0042"


def test_euro_sign_glued_to_an_amount_read_as_e() -> None:
    got = ocr_fields((100, "Totaal incl. BTW:|E1.448,07"))
    assert got["total"].value == Decimal("1448.07")
    assert got["currency"].value == "EUR"
    assert got["total"].conf <= 0.5  # a misread sign: the digits beside it may be too
    got = ocr_fields((100, "Total factura:|1.250,17E"))
    assert got["total"].value == Decimal("1250.17")
    # net + tax = total confirm it
    got = ocr_fields(
        (100, "Subtotaal:|E1.196,75"), (120, "BTW 21%:|€ 251,32"), (140, "Totaal:|€ 1.448,07")
    )
    assert [got[k].value for k in ("subtotal", "tax_amount", "total")] == [
        Decimal("1196.75"),
        Decimal("251.32"),
        Decimal("1448.07"),
    ]
    assert got["subtotal"].conf >= 0.9
    # never on a text layer, never inside a word
    assert fields((100, "Total:|E1.448,07")).get("total") is None
    assert "total" not in ocr_fields((100, "Total:|CODE1.448,07"))


def _iban_found(iban_words: list[tuple[str, float]]):  # noqa: ANN202
    """The supplier IBAN found on a scanned line 'IBAN: <words>', each word with the
    confidence tesseract gave it."""
    words = [Word("IBAN:", 50, 100, 80, 110, conf=0.95, run=(1, 1, 1))]
    x = 90.0
    for text, conf in iban_words:
        words.append(Word(text, x, 100, x + 6 * len(text), 110, conf=conf, run=(1, 1, 1)))
        x += 6 * len(text) + 3
    return extract_fields(build_lines(words)).values["supplier_iban"]


def test_a_scanned_iban_its_check_digits_prove_is_trusted_however_unsure_the_glyphs() -> None:
    rest = [("2005", 0.96), ("0550", 0.96), ("3616", 0.96), ("7447", 0.96), ("01", 0.96)]
    proven = _iban_found([("DEO8", 0.37), *rest])  # the check digits' 0 read as an O
    assert proven.value == "DE08200505503616744701"
    assert proven.conf == 0.9
    misread = _iban_found([("DEO8", 0.37), *rest[:-1], ("07", 0.5)])  # fails mod 97
    assert misread.value == "DE08200505503616744707"
    assert misread.conf < 0.6  # still doubtful: review names the IBAN
