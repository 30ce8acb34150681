"""The label files (ocr/data/*.yaml) load into the labels ocr.fields reads by, and a
mistyped addition is refused with a message that names it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ocr.fields import extract_fields
from ocr.labels import LABELS, LANGUAGES, LabelFileError, load_labels
from ocr.language import language
from ocr.layout import build_lines
from tests.ocr.test_fields import page


def test_every_label_says_its_languages_and_every_language_has_labels() -> None:
    assert all(lb.languages and lb.languages <= set(LANGUAGES) for lb in LABELS)
    assert set().union(*(lb.languages for lb in LABELS)) == set(LANGUAGES)
    totals = {lang for lb in LABELS if lb.field == "total" for lang in lb.languages}
    assert totals == set(LANGUAGES)


def test_fragments_are_expanded() -> None:
    (invoice_no,) = [lb for lb in LABELS if lb.rx.pattern.startswith(r"\binvoice\s*(?:no")]
    assert invoice_no.rx.search("Invoice No. 4711")
    assert "${" not in "".join(lb.rx.pattern for lb in LABELS)


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "labels.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_a_label_added_to_a_file_is_used(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "labels:\n  - field: invoice_number\n    kind: id\n    weight: 1.0\n"
        "    any_of:\n      - en: '\\bvoucher\\s*code'\n",
    )
    extra = load_labels(path)
    assert extra[0].languages == frozenset({"en"})
    fields = extract_fields(build_lines(page((100, "Voucher code: VC-2231"))), extra)
    assert fields.values["invoice_number"].value == "VC-2231"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("kind: idd\n    any_of:\n      - en: 'x'", "label 1 (invoice_number): kind must be"),
        ("kind: id\n    any_of:\n      - xx: 'x'", "languages must be among"),
        ("kind: id\n    any_of:\n      - en: '${nope}'", "unknown fragment ${nope}"),
        ("kind: id\n    colour: red\n    any_of:\n      - en: 'x'", "unknown key(s) colour"),
        ("kind: id\n    any_of: []", "no spellings"),
    ],
)
def test_a_mistyped_label_is_refused_by_name(tmp_path: Path, entry: str, message: str) -> None:
    path = _write(tmp_path, f"labels:\n  - field: invoice_number\n    {entry}\n")
    with pytest.raises(LabelFileError, match=re.escape(message)):
        load_labels(path)


def test_language_votes_come_from_the_words_file() -> None:
    assert language("Rechnung Nr. 1 Bitte zahlbar innerhalb von 14 Tagen, Betrag") == "de"
    assert language("Facture n° 12, montant TTC, échéance le 3 mars, TVA") == "fr"
    assert language("Invoice 12, amount due, please pay the total") == "en"
