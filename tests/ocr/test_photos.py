"""Phone photos of other sheets than A4 and taken at an angle, through real tesseract:
the sheet's shape gives its paper (A4, US Letter, a till receipt) and so its resolution,
and a sheet photographed at an angle (keystone) is squared up from its four corners."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocr import load, preprocess, script, sheet
from ocr.extract import extract_file
from tests.ocr.documents import (
    RECEIPT,
    TODAY,
    phone_photo,
    render_english,
    render_letter,
    render_receipt,
)

LONG_SIDE = 2000
SHEET_SHARE = 0.86  # phone_photo: the sheet's height in the frame


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("photos")


def _grey(path: Path):  # noqa: ANN202
    ((image, dpi),) = list(load.open_images(path.read_bytes()))
    return image, dpi


def _sheet_dpi(path: Path) -> int:
    """The resolution `prepare` finds for the photographed sheet (before resampling it)."""
    image, dpi = _grey(path)
    steps = preprocess.PREPARE_STEPS - {"normalise", "upscale", "downscale"}
    _, found = preprocess.prepare(image, dpi, steps)
    return found


@pytest.mark.parametrize(
    ("width", "height", "inches"),
    [
        (827, 1169, 8.27),  # A4
        (850, 1100, 8.5),  # US Letter
        (315, 866, 3.15),  # a receipt
        (1169, 827, 11.69),  # A4 lying sideways
    ],
)
def test_the_sheet_shape_tells_its_paper(width: int, height: int, inches: float) -> None:
    assert sheet.sheet_width_inches(width, height) == inches


def test_a_letter_sheet_photo_takes_its_resolution_from_letter_paper(folder: Path) -> None:
    photo = phone_photo(render_letter(folder / "letter.pdf"), folder / "letter.jpg", seed=3)
    true_dpi = SHEET_SHARE * LONG_SIDE / 11.0
    assert abs(_sheet_dpi(photo) - true_dpi) < 0.03 * true_dpi  # as A4: 4.5 % off
    inv = extract_file(photo, today=TODAY)
    assert (inv.invoice_number, str(inv.total)) == ("NW-2026-0042", "145.78")


def test_a_receipt_photo_is_not_taken_for_a_narrow_a4_sheet(folder: Path) -> None:
    photo = phone_photo(render_receipt(folder / "receipt.pdf"), folder / "receipt.jpg", seed=5)
    true_dpi = SHEET_SHARE * LONG_SIDE / (RECEIPT[1] / 72)
    assert abs(_sheet_dpi(photo) - true_dpi) < 0.1 * true_dpi  # as A4 it would be 2.6x off
    image, dpi = _grey(photo)
    words, _ = script.ocr_page(image, dpi=dpi)
    text = " ".join(w.text for w in words)
    assert "R-20931" in text and "9.30" in text and "Croissant" in text


def test_a_sheet_photographed_at_an_angle_is_squared_up(folder: Path) -> None:
    pdf = render_english(folder / "a4.pdf")
    # the far edge a third narrower: read as a plain crop, this one goes to review
    photo = phone_photo(pdf, folder / "keystone.jpg", seed=4, keystone=0.35, shadow=0.5)
    image, _ = _grey(photo)
    corners = sheet.sheet_corners(image)
    assert corners is not None
    (x0, _), (x1, _), (x2, _), (x3, _) = corners
    assert (x1 - x0) < 0.7 * (x2 - x3)  # the far edge is the narrower: a trapezium
    square = sheet.unwarp(image, corners, 200)
    assert abs(square.height / square.width - 2**0.5) < 0.03  # A4 again
    inv = extract_file(photo, today=TODAY)
    assert (inv.invoice_number, str(inv.subtotal), str(inv.total)) == (
        "NW-2026-0042",
        "122.50",
        "145.78",
    )
    assert inv.status == "extracted", inv.review_reasons
