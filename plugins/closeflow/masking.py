"""Masking account identifiers and server paths in anything a person reads.

Reports, CSV exports and mails show an IBAN or bank account number only as its last four
characters behind a fixed `****` (the length leaks nothing), and a file only by its name,
never the directory it lives in on the server. The warehouse keeps the full values:
masking is for output only.

Free text (remittance information, counterparty names, review reasons) is masked where
it is unambiguous: an IBAN-shaped token is always masked; a long digit run only when the
text labels it as an account ("Konto 0532013000", "A/C 12345678", "账号 6222…"), because
finance identifies payments by the references and invoice numbers in the same text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "****"
_KEEP = 4

# Two letters, two check digits, then 11-30 letters or digits (ISO 13616 IBANs are 15-34
# characters), written compact or in groups of four separated by single spaces. Upper
# case only: lower-case hex ids (statement and line ids) would otherwise look like one.
# No look-ahead at the end: bank statements cut remittance text into 35-character lines
# and join them without a space, so an IBAN may run straight into the next word.
_IBAN = re.compile(
    r"(?:(?<![A-Z0-9])|(?<=IBAN))"
    r"(?P<cc>[A-Z]{2})[0-9]{2}"
    r"(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)"
)
# RF00 is an ISO 11649 creditor reference (RF + check digits + up to 21 characters), not
# an account: a payment reference finance needs to read. No country has the code RF.
_NOT_A_COUNTRY = {"RF"}
_IBAN_LENGTH = range(15, 35)

# A digit run that the text itself calls an account: "Konto 0532013000", "Kto.-Nr.
# 12345678", "account no. 12345678", "A/C 12345678", "IBAN: 0532…", "账号：6222 0212 …".
# At least six digits, so ledger accounts ("account 6200") stay readable.
_ACCOUNT_LABEL = (
    r"(?:(?<![\w/])(?:iban|bban|konto(?:nummer|nr)?|kto|account|acct|a/c|"
    r"rekening(?:nummer)?|compte|cuenta|conto)(?!\w)"
    r"(?:\s*\.)?(?:\s*-?\s*(?:number|nummer|num|no|nr|n°|#)(?!\w)\.?)?"
    r"|账号|帐号|账户|帳號|帳戶|卡号)"
)
_LABELLED_NUMBER = re.compile(
    rf"(?P<label>{_ACCOUNT_LABEL}\s*[:：#]?\s*)"
    r"(?P<number>\d{4,}(?: \d{4})*(?: \d{1,3})?)"
    r"(?!\w|[.,/-]\d)",
    re.IGNORECASE,
)
_MIN_LABELLED_DIGITS = 6

# An absolute path: POSIX (/srv/a/b.pdf, at least one directory), Windows (C:\x\y.pdf,
# \\server\share\y.pdf), or a file:// URI, at the start of the text or after a space, a
# quote, a bracket, "=", "," or ";" (not in "</b>", "01/2026", "inbox/a.pdf" or a URL).
# A POSIX path's first directory has a lower-case letter, as server roots do (/srv, /tmp,
# /Users): SWIFT codes in remittance text ("/EREF/CF-PAY-1/SVWZ/Rechnung 4711") are no
# path. Directory names may hold single spaces, but not after a word that ends a clause
# ("a.pdf; see …") and a directory name does not end in ":".
_SEGMENT = r"(?:[^\s/\\'\"]*[^\s/\\'\":;,.!?] )*[^\s/\\'\"]*[^\s/\\'\":]"
_PATH = re.compile(
    r"(?:(?<!\w)file://|(?<![^\s'\"(\[{=,;]))"
    rf"(?:/(?=[^\s/\\'\"]*[a-z])(?:{_SEGMENT}/)+"
    rf"|(?:[A-Za-z]:|\\\\[^\s\\/]+)[\\/](?:{_SEGMENT}[\\/])*)"
    r"(?P<name>[^\s/\\'\"]*)"
)


def _compact(value: str) -> str:
    return "".join(value.split())


def mask_account(value: str | None) -> str | None:
    """`value` (an IBAN or account number) as `****` and its last four characters.

    "DE89 3704 0044 0532 0130 00" -> "****3000". Four characters or fewer come back
    unchanged, None stays None.
    """
    if value is None:
        return None
    compact = _compact(str(value))
    if len(compact) <= _KEEP:
        return value
    return MASK + compact[-_KEEP:]


def _iban_ok(compact: str) -> bool:
    """The ISO 13616 check: the number read with its first four characters moved to the
    end, letters as 10..35, is 1 modulo 97."""
    text = compact[4:] + compact[:4]
    try:
        return int("".join(str(int(c, 36)) for c in text)) % 97 == 1
    except ValueError:
        return False


def _mask_iban(m: re.Match) -> str:
    if m["cc"] in _NOT_A_COUNTRY:
        return m[0]
    token = m[0]
    where = [i for i, c in enumerate(token) if c != " "]
    compact = "".join(token[i] for i in where)
    # The token may run on into the next word or group ("…013000Miete", "… 0130 00 INV"
    # read as a group): mask the longest prefix whose check digits are right; if none is
    # right, the whole token (over-masking a near-IBAN is safer than showing it).
    for n in range(min(len(compact), _IBAN_LENGTH.stop - 1), _IBAN_LENGTH.start - 1, -1):
        if _iban_ok(compact[:n]):
            return MASK + compact[n - _KEEP : n] + token[where[n - 1] + 1 :]
    if len(compact) not in _IBAN_LENGTH:
        return token
    return MASK + compact[-_KEEP:]


def _mask_labelled(m: re.Match) -> str:
    digits = m["number"].replace(" ", "")
    if len(digits) < _MIN_LABELLED_DIGITS:
        return m[0]
    return m["label"] + MASK + digits[-_KEEP:]


def mask_accounts_in_text(text: str | None, known: Iterable[str | None] = ()) -> str | None:
    """`text` with every IBAN-shaped token and every labelled account number masked.

    `known` are account identifiers the caller knows (the company's own bank accounts,
    a line's counterparty account): each is masked wherever it appears, compact or with
    spaces, labelled or not (a statement file named after its account, say). Invoice
    numbers, RF references, dates and amounts are left as they are.
    """
    if not text:
        return text
    for value in sorted({_compact(str(k)) for k in known if k}, key=len, reverse=True):
        if len(value) < _MIN_LABELLED_DIGITS:
            continue
        spaced = r"\s?".join(re.escape(c) for c in value)
        text = re.sub(
            rf"(?<![A-Za-z0-9]){spaced}(?![A-Za-z0-9])",
            MASK + value[-_KEEP:],
            text,
            flags=re.IGNORECASE,
        )
    text = _IBAN.sub(_mask_iban, text)
    return _LABELLED_NUMBER.sub(_mask_labelled, text)


def file_name(path: str | None) -> str | None:
    """The last part of a path, POSIX or Windows: what a person recognises a file by."""
    if path is None:
        return None
    parts = [p for p in re.split(r"[\\/]", str(path)) if p]
    return parts[-1] if parts else ""


def public_path(text: str | None) -> str | None:
    """`text` with every absolute filesystem path replaced by the file's base name.

    "same file content as /srv/closeflow/var/inbox/2026/a.pdf" -> "same file content as
    a.pdf". Relative paths, URLs and dates (01/2026) are left alone.
    """
    if not text:
        return text
    return _PATH.sub(lambda m: m["name"] or file_name(m[0]) or "", text)


def public_text(text: str | None, known: Iterable[str | None] = ()) -> str | None:
    """Free text fit for a report or mail: no server path, no account identifier."""
    return mask_accounts_in_text(public_path(text), known)
