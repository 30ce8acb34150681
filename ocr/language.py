"""A document's language (en, de, fr, nl, es, zh) from its text.

Chinese by its characters; the others by a vote of the words distinctive of each
(ocr/data/document_words.yaml, `language_words`). The language decides which tesseract
model reads a page again and how dates and amounts are read; labels of every language are
always looked for (a German invoice prints "IBAN" and "Total" too).
"""

from __future__ import annotations

from ocr.labels import LANGUAGE_WORDS, MIN_LANGUAGE_WORDS
from ocr.layout import is_cjk
from ocr.normalize import fold

CJK_CHARACTERS = 10  # this many Chinese characters make a page Chinese


def language_votes(text: str) -> dict[str, int]:
    """How many words of `text` are distinctive of each of en, de, fr, nl, es."""
    folded = fold(text)
    return {lang: len(rx.findall(folded)) for lang, rx in LANGUAGE_WORDS.items()}


def language(text: str) -> str:
    """'zh', 'en', 'de', 'fr', 'nl' or 'es': the document's main language.

    Chinese by its characters; otherwise a vote of distinctive words: the language with
    the most, if at least MIN_LANGUAGE_WORDS of them and more than English has; else 'en'.
    """
    if sum(1 for c in text if is_cjk(c)) >= CJK_CHARACTERS:
        return "zh"
    votes = language_votes(text)
    lang = max(("de", "fr", "nl", "es"), key=lambda k: votes[k])
    if votes[lang] >= MIN_LANGUAGE_WORDS and votes[lang] > votes["en"]:
        return lang
    return "en"
