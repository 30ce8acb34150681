"""The nightly report names review items the way finance recognises them."""

import json

from closeflow.report import bar_chart_svg, review_label


def _item(**details) -> dict:
    return {"item_id": "a" * 64, "details": json.dumps(details)}


def test_bank_line_is_named_by_date_counterparty_reference_and_amount():
    label = review_label(
        _item(
            amount="300000.00",
            currency="EUR",
            booking_date="2026-01-02",
            counterparty_name="Closeflow Holding AG",
            remittance_info="Kapitaleinlage",
        )
    )
    assert label == "2026-01-02 · Closeflow Holding AG · Kapitaleinlage · 300000.00 EUR"


def test_invoice_is_named_by_supplier_number_and_file():
    label = review_label(
        _item(file="/x/inbox/scan_1.jpg", supplier="Akademie Nord", invoice_number="AN260175")
    )
    assert label == "Akademie Nord · AN260175 · scan_1.jpg"


def test_file_is_named_by_its_name_and_unknown_by_id():
    assert review_label(_item(file="/x/inbox/letter.pdf", status="quarantined")) == "letter.pdf"
    assert review_label({"item_id": "b" * 64, "details": None}) == "b" * 16


def test_chart_bars_scale_to_the_largest_count():
    svg = bar_chart_svg([("Matched", 4, "#0a0"), ("Unmatched", 2, "#a00"), ("Fees", 0, "#00a")])
    assert svg.count("<rect") == 3
    assert 'width="320"' in svg and 'width="160"' in svg and 'width="0"' in svg
