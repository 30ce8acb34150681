"""The labels and words ocr.fields reads a document by, as data: ocr/data/labels.yaml (a
field's labels, each spelling under the languages it is written in) and
ocr/data/document_words.yaml (party markers, credit-note and title words, legal forms,
date qualifiers, the words that vote for a language).

A spelling is a case-insensitive regular expression; `${name}` in it stands for one of the
file's fragments. A label's spellings become one pattern, tried in the file's order. The
files are checked as they load: an unknown key, kind, party or language is an error that
names the label, so a mistyped addition never goes unnoticed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).with_name("data")
LANGUAGES = ("en", "de", "fr", "nl", "es", "zh")
KINDS = ("id", "cn_number", "date", "amount", "text", "taxid", "iban", "ref", "code", "digits")
PARTIES = ("buyer", "supplier", "context")
REGISTRATION_WEIGHT = 0.8  # a tax id labelled as a registration number (SIRET, KvK, St.-Nr.)
_WEIGHTS = {"registration": REGISTRATION_WEIGHT}
_OPTIONS = {"pick", "party", "adjacent", "min_amounts", "after", "wrap"}
_FRAGMENT = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class Label:
    field: str
    rx: re.Pattern
    weight: float = 1.0
    kind: str = "text"  # one of KINDS
    pick: str = "last"  # amounts: which one of several on the line
    party: str | None = None  # "buyer"/"supplier": fixed; "context": from markers
    adjacent: bool = False  # value must follow the label directly (no look below)
    min_amounts: int = 1  # amounts: ignore the label unless this many follow
    # a connecting word that labels a value only right after this field's label and value
    # on the same line ("Facture n°562044387 du 02 Juillet 2015", "Nr. 471102 vom ...")
    after: str | None = None
    wrap: bool = False  # a label that ends its line: the value may start the next one
    languages: frozenset[str] = frozenset()  # the languages its spellings are written in


class LabelFileError(ValueError):
    """A label file that does not say what closeflow can read."""


def _expand(spelling: str, fragments: dict[str, str], where: str) -> str:
    def fragment(m: re.Match) -> str:
        if m.group(1) not in fragments:
            raise LabelFileError(f"{where}: unknown fragment ${{{m.group(1)}}}")
        return fragments[m.group(1)]

    return _FRAGMENT.sub(fragment, spelling)


def _label(entry: dict[str, Any], fragments: dict[str, str], where: str) -> Label:
    unknown = set(entry) - _OPTIONS - {"field", "kind", "weight", "any_of"}
    if unknown:
        raise LabelFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if entry.get("kind") not in KINDS:
        raise LabelFileError(f"{where}: kind must be one of {', '.join(KINDS)}")
    if entry.get("party") not in (None, *PARTIES):
        raise LabelFileError(f"{where}: party must be one of {', '.join(PARTIES)}")
    spellings, languages = [], set()
    for item in entry.get("any_of") or []:
        if not isinstance(item, dict) or len(item) != 1:
            raise LabelFileError(f"{where}: each spelling is one 'languages: pattern' pair")
        ((langs, spelling),) = item.items()
        named = set(str(langs).split())
        if not named or named - set(LANGUAGES):
            raise LabelFileError(f"{where}: languages must be among {', '.join(LANGUAGES)}")
        languages |= named
        spellings.append(_expand(str(spelling), fragments, where))
    if not spellings:
        raise LabelFileError(f"{where}: no spellings (any_of)")
    weight = entry.get("weight", 1.0)
    options = {k: entry[k] for k in _OPTIONS if k in entry}
    return Label(
        field=str(entry["field"]),
        rx=re.compile("|".join(spellings), re.IGNORECASE),
        weight=_WEIGHTS.get(weight, weight) if isinstance(weight, str) else float(weight),
        kind=entry["kind"],
        languages=frozenset(languages),
        **options,
    )


def load_labels(path: Path = DATA / "labels.yaml") -> list[Label]:
    """The labels of a label file, in its order."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    fragments = {str(k): str(v) for k, v in (doc.get("fragments") or {}).items()}
    return [
        _label(entry, fragments, f"{path.name}, label {i + 1} ({entry.get('field')})")
        for i, entry in enumerate(doc["labels"])
    ]


def _any_of(spellings: list[str], flags: int = re.IGNORECASE) -> re.Pattern:
    return re.compile("|".join(spellings), flags)


LABELS: list[Label] = load_labels()

_WORDS = yaml.safe_load((DATA / "document_words.yaml").read_text(encoding="utf-8"))
BUYER_MARKERS = _any_of(_WORDS["party_markers"]["buyer"])
SUPPLIER_MARKERS = _any_of(_WORDS["party_markers"]["supplier"])
# Third parties whose ids are neither the supplier's nor the buyer's: a tax representative,
# a different payee or consignee.
OTHER_MARKERS = _any_of(_WORDS["party_markers"]["other"])
CREDIT_NOTE_RX = _any_of(_WORDS["credit_note"])
TITLE_RX = _any_of(_WORDS["title"])
LEGAL_FORM_RX = _any_of(_WORDS["legal_forms"], flags=0)  # "AG", "AB", "Oy" are words
DATE_QUALIFIERS = frozenset(_WORDS["date_qualifiers"])
LANGUAGE_WORDS = {
    language: re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE)
    for language, words in _WORDS["language_words"].items()
}
MIN_LANGUAGE_WORDS = int(_WORDS["min_language_words"])
