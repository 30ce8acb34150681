"""A bank CSV's text: its bytes decoded in the encoding detected from them (never guessed,
closeflow.bank.encoding), and its lines, decoded and read as a stream."""

from __future__ import annotations

import codecs
import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from closeflow.bank.encoding import EncodingError, decode_text
from closeflow.bank.statement import SourceFile

# the format's logger (closeflow.bank.csv_export), where the detected encoding is noted
log = logging.getLogger(__package__)

HEADER_SEARCH = 60  # the header row is one of the file's first 60 lines


@dataclass(frozen=True)
class Text:
    """A file's text as a stream of lines decoded from its bytes on the fly: the encoding
    is detected from the whole file once, and the decoded text is not kept."""

    data: bytes
    encoding: str
    mac: bool  # old Mac line ends: a carriage return alone ends a line

    def lines(self, start_line: int = 0) -> Iterator[str]:
        """The lines from the 0-based `start_line` on, with their line ends, as `iter_lines`
        gives them from the decoded text."""
        decoder = codecs.getincrementaldecoder(self.encoding)("strict")
        size, n, rest = len(self.data), 0, ""
        for at in range(0, size, _CHUNK):
            piece = decoder.decode(self.data[at : at + _CHUNK], final=at + _CHUNK >= size)
            if self.mac:
                piece = piece.replace("\r", "\n")
            parts = (rest + piece).split("\n")
            rest = parts.pop()
            for part in parts:
                if n >= start_line:
                    yield part + "\n"
                n += 1
        if rest and n >= start_line:
            yield rest

    def head(self, n: int = HEADER_SEARCH + 1) -> list[str]:
        """The first `n` lines, without their line ends."""
        return [ln.rstrip("\r\n") for ln in itertools.islice(self.lines(0), n)]


_CHUNK = 1 << 20  # bytes decoded at a time


def open_text(src: SourceFile) -> Text:
    """The file's text, its encoding detected from the whole file (the decoded text is
    dropped once checked); a file whose encoding cannot be told is refused."""
    try:
        decoded = decode_text(src.data)
    except EncodingError as exc:
        raise src.error(None, str(exc)) from exc
    if decoded.encoding not in ("ascii", "utf-8", "utf-8-sig"):
        log.info("%s: text encoding detected as %s", src.path, decoded.encoding)
    mac = "\n" not in decoded.text and "\r" in decoded.text
    return Text(src.data, decoded.encoding, mac)


def head_lines(text: str, n: int = HEADER_SEARCH + 1) -> list[str]:
    """The first `n` lines of `text`, without their line ends."""
    lines = list(itertools.islice(iter_lines(text, 0), n))
    return [ln.rstrip("\r\n") for ln in lines]


def iter_lines(text: str, start_line: int) -> Iterator[str]:
    """The file's lines from the 0-based `start_line` on, with their line ends, as a stream."""
    pos, n, size = 0, 0, len(text)
    while pos < size:
        end = text.find("\n", pos)
        end = size if end < 0 else end + 1
        if n >= start_line:
            yield text[pos:end]
        pos, n = end, n + 1
