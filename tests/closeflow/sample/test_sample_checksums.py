"""Check digits: published examples pass, one changed character fails, made ones pass."""

from __future__ import annotations

import pytest

from closeflow.sample import checksums as cs


@pytest.mark.parametrize(
    "iban", ["DE89370400440532013000", "GB82 WEST 1234 5698 7654 32", "NL91ABNA0417164300"]
)
def test_published_ibans_are_valid(iban: str) -> None:
    assert cs.is_valid_iban(iban)


def test_changed_iban_digit_is_invalid() -> None:
    assert not cs.is_valid_iban("DE89370400440532013001")
    assert not cs.is_valid_iban("DE8937040044")


def test_make_iban_computes_the_check_digits() -> None:
    assert cs.make_iban("DE", "370400440532013000") == "DE89370400440532013000"
    assert cs.format_iban("DE89370400440532013000") == "DE89 3704 0044 0532 0130 00"


def test_rf_creditor_reference() -> None:
    assert cs.make_rf("539007547034") == "RF18539007547034"
    assert cs.is_valid_rf("RF18 5390 0754 7034")
    assert not cs.is_valid_rf("RF18539007547035")
    assert not cs.is_valid_rf("RF19539007547034")
    with pytest.raises(ValueError):
        cs.make_rf("X" * 22)


def test_german_vat_id_check_digit() -> None:
    assert cs.is_valid_de_vat_id("DE136695976")
    assert not cs.is_valid_de_vat_id("DE136695977")
    assert cs.make_de_vat_id("13669597") == "DE136695976"


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L"])
def test_published_unified_social_credit_codes_are_valid(code: str) -> None:
    assert cs.is_valid_uscc(code)


def test_changed_uscc_is_invalid() -> None:
    assert not cs.is_valid_uscc("91350100M000100Y44")
    assert not cs.is_valid_uscc("91350100M000100I43")  # I is not in the character set


def test_make_uscc_builds_organisation_code_and_check_character() -> None:
    code = cs.make_uscc("9", "1", "350100", "M000100Y")
    assert code == "91350100M000100Y43"
    assert cs.is_valid_uscc(cs.make_uscc("9", "1", "310115", "MA1FL2NX"))
