"""Chinese invoice checks: amounts in capitals and unified social credit codes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ocr.chinese import looks_like_uscc, parse_capitals, uscc_check_char, uscc_is_valid


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("壹仟壹佰叁拾元整", "1130.00"),
        ("叁拾肆元伍角陆分", "34.56"),
        ("拾元整", "10.00"),
        ("拾壹元整", "11.00"),
        ("壹仟零壹元整", "1001.00"),
        ("壹佰元零伍分", "100.05"),
        ("伍角", "0.50"),
        ("贰拾万零叁佰元整", "200300.00"),
        ("壹万贰仟叁佰肆拾伍元陆角", "12345.60"),
        ("玖拾玖万玖仟玖佰玖拾玖元玖角玖分", "999999.99"),
        ("壹亿贰仟万元整", "120000000.00"),
        ("⊗ 壹仟壹佰叁拾圆整", "1130.00"),
        ("负壹佰元整", "-100.00"),
        ("壹什壹佰参拾元整", "1130.00"),  # as tesseract reads 仟 and 叁
        ("壹仟壹佰叁拾", None),  # no 元: not an amount
        ("元整", None),
        ("SETHE IDA", None),
        ("壹仟壹佰叁拾元整伍", None),
    ],
)
def test_capitals(text: str, expected: str | None) -> None:
    assert parse_capitals(text) == (Decimal(expected) if expected else None)


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # the example of GB 32100-2015
        "9144030071526726XG",
        "914403001922038216",
        "91330100716105852F",
    ],
)
def test_real_unified_social_credit_codes_pass(code: str) -> None:
    assert uscc_is_valid(code)
    assert looks_like_uscc(code)


def test_a_misread_character_fails_the_check() -> None:
    assert not uscc_is_valid("91350100M000100Y44")
    assert not uscc_is_valid("91350100M000I00Y43")  # I is not in the alphabet
    assert not uscc_is_valid("91350100M000100Y4")  # 17 characters
    assert uscc_check_char("91350100M000100Y4") == "3"


def test_only_uscc_shaped_ids_are_judged() -> None:
    assert not looks_like_uscc("DE123456788")
    assert not looks_like_uscc("06AABCO6063D1ZQ")  # an Indian GSTIN
