"""Check digits of the identifiers the sample company prints: IBAN, RF reference, VAT ids.

Each scheme has a `make_*` that completes a body with its check characters and a
`is_valid_*` that verifies a full identifier, so the generator and the tests share one
implementation of ISO 13616 (IBAN), ISO 11649 (RF creditor reference), the German VAT id
(ISO 7064 MOD 11,10) and the Chinese unified social credit code (GB 32100-2015).
"""

from __future__ import annotations

import string

_ALNUM = {c: str(i) for i, c in enumerate(string.digits + string.ascii_uppercase)}


def _mod97(text: str) -> int:
    """`text` (digits and capital letters, letters as 10..35) as a number, modulo 97."""
    return int("".join(_ALNUM[c] for c in text)) % 97


def compact(identifier: str) -> str:
    """Upper case without spaces: the form identifiers are compared in."""
    return "".join(identifier.split()).upper()


def make_iban(country: str, bban: str) -> str:
    """The IBAN for `country` (two letters) and the national account number `bban`."""
    country, bban = country.upper(), compact(bban)
    check = 98 - _mod97(bban + country + "00")
    return f"{country}{check:02d}{bban}"


def is_valid_iban(iban: str) -> bool:
    """ISO 13616: move the first four characters to the end; the number mod 97 is 1."""
    iban = compact(iban)
    if len(iban) < 15 or len(iban) > 34 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    if any(c not in _ALNUM for c in iban):
        return False
    return _mod97(iban[4:] + iban[:4]) == 1


def format_iban(iban: str) -> str:
    """The printed form: groups of four characters."""
    iban = compact(iban)
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def make_rf(reference: str) -> str:
    """ISO 11649 creditor reference (RF + 2 check digits + up to 21 characters)."""
    reference = compact(reference)
    if not 1 <= len(reference) <= 21 or any(c not in _ALNUM for c in reference):
        raise ValueError(f"an RF reference body is 1-21 letters or digits, got {reference!r}")
    check = 98 - _mod97(reference + "RF00")
    return f"RF{check:02d}{reference}"


def is_valid_rf(reference: str) -> bool:
    reference = compact(reference)
    if not reference.startswith("RF") or not 5 <= len(reference) <= 25:
        return False
    if not reference[2:4].isdigit() or any(c not in _ALNUM for c in reference):
        return False
    return _mod97(reference[4:] + reference[:4]) == 1


def _de_vat_check(body: str) -> int:
    """ISO 7064 MOD 11,10 check digit over the eight digits of a German VAT id."""
    product = 10
    for digit in body:
        total = (int(digit) + product) % 10 or 10
        product = (2 * total) % 11
    return (11 - product) % 10


def make_de_vat_id(body: str) -> str:
    """`DE` + the eight-digit `body` (first digit not 0) + its check digit."""
    if len(body) != 8 or not body.isdigit() or body[0] == "0":
        raise ValueError(f"a German VAT id body is 8 digits not starting with 0, got {body!r}")
    return f"DE{body}{_de_vat_check(body)}"


def is_valid_de_vat_id(vat_id: str) -> bool:
    vat_id = compact(vat_id)
    body = vat_id[2:]
    return (
        vat_id.startswith("DE")
        and len(body) == 9
        and body.isdigit()
        and body[0] != "0"
        and _de_vat_check(body[:8]) == int(body[8])
    )


# GB 32100-2015: 31 characters (no I, O, Z, S, V), weights 3^i mod 31.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714-1997 organisation code (characters 9-17 of the USCC): weights and MOD 11.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code_check(body: str) -> str:
    total = sum(int(_ALNUM[c]) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def make_org_code(body: str) -> str:
    """A nine-character organisation code: eight digits/letters + GB 11714 check."""
    body = body.upper()
    if len(body) != 8 or any(c not in USCC_CHARS for c in body):
        raise ValueError(f"an organisation code body is 8 USCC characters, got {body!r}")
    return body + _org_code_check(body)


def _uscc_check(body: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def make_uscc(authority: str, org_type: str, division: str, org_code_body: str) -> str:
    """The 18-character unified social credit code.

    `authority` (1, e.g. "9" for market regulation) + `org_type` (1, "1" enterprise) +
    `division` (6-digit administrative division, e.g. "310115" Pudong) + the 9-character
    organisation code built from `org_code_body` + the GB 32100 check character.
    """
    body = f"{authority}{org_type}{division}{make_org_code(org_code_body)}".upper()
    if len(body) != 17 or any(c not in USCC_CHARS for c in body):
        raise ValueError(f"not a USCC body: {body!r}")
    return body + _uscc_check(body)


def is_valid_uscc(code: str) -> bool:
    code = compact(code)
    if len(code) != 18 or any(c not in USCC_CHARS for c in code):
        return False
    return _uscc_check(code[:17]) == code[17]
