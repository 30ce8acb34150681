"""What OCR gets wrong and extraction puts right: look-alike characters in ids (with the
check character where one exists), misread yuan signs, split 发票号码, and the net, tax or
total a scan lost, worked out from the other two and trusted only where confirmed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ocr.extract import _build
from ocr.fields import extract_fields
from ocr.layout import Word, build_lines
from ocr.normalize import (
    gstin_check_char,
    gstin_is_valid,
    repair_invoice_number,
    repair_tax_id,
)
from ocr.values import REPAIRED_CONFIDENCE
from tests.ocr.documents import uscc

TODAY = dt.date(2026, 3, 1)


# ---------------------------------------------------------------- ids


def test_gstin_check_character() -> None:
    assert gstin_check_char("06AABCO6063D1Z") == "Q"  # OYO's GSTIN, 06AABCO6063D1ZQ
    assert gstin_is_valid("06AABCO6063D1ZQ")
    assert not gstin_is_valid("06AABCO6063D1ZR")
    assert not gstin_is_valid("O6AABCO6063D1ZQ")


@pytest.mark.parametrize(
    ("read", "value", "proven"),
    [
        ("O6AABCO6063D1ZQ", "06AABCO6063D1ZQ", True),  # state code: digits
        ("06AABC06063D1ZQ", "06AABCO6063D1ZQ", True),  # the PAN's fifth character: a letter
        ("O6AABCO6O63D12Q", "06AABCO6063D1ZQ", True),  # PAN digits, and the Z before the check
        ("O06AABCO6063D1ZQ", "06AABCO6063D1ZQ", False),  # a speck before it: not proven
        ("DE8119O798O", "DE811907980", True),  # USt-IdNr. check digit (ISO 7064 MOD 11,10)
        ("DEO12345678", "DE012345678", False),  # shape only: its check digit fails
        ("FR4O303265045", "FR40303265045", True),  # the French key of the SIREN
        ("NL853746192801", "NL853746192B01", False),  # the B of a Dutch BTW-nummer
        ("ATUI2345678", "ATU12345678", False),
        ("9131O115MAFTKWKX4F", "91310115MAFTKWKX4F", True),  # USCC: GB 32100-2015 check
    ],
)
def test_tax_id_repairs(read: str, value: str, proven: bool) -> None:
    repair = repair_tax_id(read)
    assert (repair.value, repair.repaired, repair.proven) == (value, True, proven)


@pytest.mark.parametrize(
    "value", ["06AABCO6063D1ZQ", "DE811907980", "ESB12345674", "CHE-123456789", "99015/12345"]
)
def test_tax_ids_read_right_are_left_alone(value: str) -> None:
    assert repair_tax_id(value).value == value
    assert not repair_tax_id(value).repaired


def test_a_uscc_repair_found_by_its_check_character() -> None:
    code = uscc("91310115MA1H7XY21")  # ...215: its check character is 5
    assert code == "91310115MA1H7XY215"
    misread = code[:-1] + "S"  # S: a letter no USCC has
    assert repair_tax_id(misread).value == code and repair_tax_id(misread).proven


@pytest.mark.parametrize(
    ("read", "value"),
    [
        ("AROO00051", "AR0000051"),  # the prefix ends with the last letter that is no 0
        ("ARO000051", "AR0000051"),
        ("INV-2O26-0O555", "INV-2026-00555"),  # parts of digits
        ("#BLR_WFLD2015100O982590", "#BLR_WFLD20151000982590"),
        ("3OO64443", "30064443"),
        ("RE-2026-0l17", "RE-2026-0117"),
    ],
)
def test_invoice_number_repairs(read: str, value: str) -> None:
    repair = repair_invoice_number(read)
    assert (repair.value, repair.repaired, repair.proven) == (value, True, False)


@pytest.mark.parametrize(
    "value", ["IBZY2087", "INV/2023/03/0008", "FV-2026/0042", "42183017", "BG-000249"]
)
def test_invoice_numbers_without_look_alikes_stay(value: str) -> None:
    assert repair_invoice_number(value).value == value


# ---------------------------------------------------------------- OCR'd words


def ocr_page(*rows: tuple[float, str], conf: float = 0.93) -> list[Word]:
    """Words as tesseract gives them (with a run id and a confidence) for rows written at
    (y, "text, '|' jumps to the next 150-point column"); characters are 6 points wide."""
    words = []
    for n, (y, row) in enumerate(rows):
        for column, cell in enumerate(row.split("|")):
            x = 50 + 150 * column
            for token in cell.split():
                words.append(Word(token, x, y, x + 6 * len(token), y + 10, 0, conf, (1, 1, n)))
                x += 6 * len(token) + 3
    return words


def read(*rows: tuple[float, str]) -> dict:
    found = extract_fields(build_lines(ocr_page(*rows)))
    return {name: (f.value, f.conf) for name, f in found.values.items()}


def test_an_ocr_id_is_repaired_and_doubted_a_text_layer_id_is_not() -> None:
    got = read((100, "Invoice number: AROO00051"), (114, "GSTIN: O6AABCO6063D1ZQ"))
    assert got["invoice_number"] == ("AR0000051", REPAIRED_CONFIDENCE)  # no check: doubtful
    assert got["supplier_tax_id"] == ("06AABCO6063D1ZQ", 0.93)  # proven: as sure as read
    text_layer = extract_fields(
        build_lines([Word("Invoice", 50, 100, 92, 110), Word("AROO00051", 100, 100, 154, 110)])
    )
    assert text_layer.values["invoice_number"].value == "AROO00051"  # printed so: kept


@pytest.mark.parametrize("sign", ["*Y", "“YY", "Y", "YY", "半 ", "关"])
def test_misread_yuan_signs_of_the_total_in_figures(sign: str) -> None:
    got = read(
        (100, "合计|¥13,457.80|¥807.46"),
        (114, f"价税合计 (大写 )|壹万肆仟贰佰陆拾伍元贰角陆分|(小写 ) {sign}14,265.26"),
    )
    assert got["total"][0] == Decimal("14265.26")
    assert (got["subtotal"][0], got["tax_amount"][0]) == (Decimal("13457.80"), Decimal("807.46"))


def test_a_date_is_as_sure_as_its_digits_not_its_units() -> None:
    words = ocr_page((100, "开票日期 : 2026 年 01 月 07 日"))
    words[-1] = Word("日", *(words[-1].x0, 100, words[-1].x1, 110), 0, 0.27, (1, 1, 0))
    found = extract_fields(build_lines(words)).values["invoice_date"]
    assert (found.value, found.conf) == (dt.date(2026, 1, 7), 0.93)


def test_a_split_fapiao_number_is_joined_to_its_eight_digits() -> None:
    assert read((100, "发票号码 : 05528 162"))["invoice_number"][0] == "05528162"
    assert read((100, "发票号码 ;: 05528162"))["invoice_number"][0] == "05528162"  # ";" a colon
    assert read((100, "发票代码 ; 3100267194"))["invoice_code"][0] == "3100267194"


def test_a_dotless_i_in_a_label() -> None:
    assert read((100, "|Totaı EUR|34,73"))["total"][0] == Decimal("34.73")


def test_charges_above_tax_are_the_net_and_pick_the_total_that_adds_up() -> None:
    got = read(
        (100, "TOTAL AMOUNT DUE ON August 3 , 2014|$4.11"),
        (200, "Charges|$4.11"),
        (214, "Credits|$0.00"),
        (228, "Tax|$0.00"),
        (242, "Total for this invoice|$4.14"),  # a 1 misread as 4
    )
    assert (got["subtotal"][0], got["tax_amount"][0], got["total"][0]) == (
        Decimal("4.11"),
        Decimal("0.00"),
        Decimal("4.11"),
    )
    assert read((100, "Room Charges|Rs 1939"), (114, "Grand Total|Rs 1939")).get("subtotal") is None


# ---------------------------------------------------------------- amounts completed


def build(*rows: tuple[float, str], conf: float = 0.93):  # noqa: ANN201
    base = {"file": "scan.png", "file_sha256": "0" * 64, "media_type": "image/png"}
    return _build(
        base | {"size_bytes": 1}, build_lines(ocr_page(*rows, conf=conf)), "ocr", None, 0.6, TODAY
    )


HEAD = (
    (60, "Invoice number: PL-2026-00830"),
    (74, "Invoice date: 2026-01-17"),
)


def test_a_lost_tax_is_total_minus_net_where_the_printed_rate_confirms_it() -> None:
    inv = build(*HEAD, (200, "Subtotal:|40.80"), (214, "VAT 19%:|LAS"), (228, "Total EUR:|48.55"))
    assert (inv.subtotal, inv.tax_amount, inv.total) == (
        Decimal("40.80"),
        Decimal("7.75"),  # 19 % of 40.80 = 7.752
        Decimal("48.55"),
    )
    assert inv.field_confidence["tax_amount"] == 0.9
    assert inv.status == "extracted", inv.review_reasons
    assert [(b.rate, b.net, b.tax) for b in inv.tax_breakdown] == [
        (Decimal("0.19"), Decimal("40.80"), Decimal("7.75"))
    ]


def test_a_misread_tax_is_replaced_where_total_minus_net_is_the_rate() -> None:
    inv = build(
        *HEAD, (200, "Subtotal:|168,16"), (214, "VAT 7%:|iL 77"), (228, "Total EUR:|179,93")
    )
    assert inv.tax_amount == Decimal("11.77")
    assert inv.status == "extracted", inv.review_reasons


def test_a_misread_total_is_replaced_only_where_the_items_confirm_the_net() -> None:
    rows = (
        (200, "Subtotal:|23.00"),
        (214, "VAT 19%:|4.37"),
        (228, "Total EUR:|21.37."),
    )
    alone = build(*HEAD, *rows)  # 19 % of 23.00 is 4.37, but so it is of 23.01
    assert alone.total == Decimal("21.37") and alone.status == "needs_review"
    table = (
        (120, "Description|Qty|Unit price|Amount"),
        (134, "Object storage 1 TB|1|23.00|23.00"),
    )
    inv = build(*HEAD, *table, *rows)
    assert inv.total == Decimal("27.37")
    assert inv.status == "extracted", inv.review_reasons


def test_without_a_rate_a_lost_amount_is_filled_in_for_review() -> None:
    inv = build(*HEAD, (200, "Subtotal:|275,00"), (214, "VAT:|52)25,"), (228, "Total EUR:|327,25"))
    assert inv.tax_amount == Decimal("52.25")  # total - net, but nothing confirms it
    assert inv.status == "needs_review"
    assert any("tax amount read with low confidence (0.50)" in r for r in inv.review_reasons)


def test_a_tax_free_invoice_gets_no_tax_made_up() -> None:
    inv = build(*HEAD, (200, "Subtotal:|50.00"), (228, "Total EUR:|50.00"))
    assert (inv.subtotal, inv.tax_amount, inv.total) == (Decimal("50.00"), None, Decimal("50.00"))


def test_factura_n_degree_read_as_a_percent_sign() -> None:
    assert read((100, "Factura n%:|FV-2026/0042"))["invoice_number"][0] == "FV-2026/0042"


def test_a_repair_the_check_character_chose_among_readings_is_not_proven() -> None:
    code = uscc("91310115MA2B7XY2C")  # a B where a USCC may have a letter or a digit
    misread = code.replace("2B7", "287")
    repair = repair_tax_id(misread)
    assert (repair.value, repair.repaired, repair.proven) == (code, True, False)
