"""The invoice XML embedded in a PDF/A-3 (Factur-X, ZUGFeRD 1.0 / 2.x, XRechnung in a PDF).

Found two ways, in this order: by the standard file names in the document's embedded
files (factur-x.xml, zugferd-invoice.xml / ZUGFeRD-invoice.xml, xrechnung.xml; compared
without case), then by the PDF/A-3 associated-files relationship: a file the catalog's
/AF array (or the embedded files) marks /Data, /Alternative or /Source that is XML by its
name or media type, whatever it is called. The caller keeps the first candidate that is
an invoice (ocr.einvoice.read).

pypdf reads the PDF's objects (pdfium, which reads the pages, lists embedded files by
name but cannot see the catalog's /AF array or a file's /AFRelationship); it decodes a
stream only up to its own limits (75 MB), so a compression bomb in an attachment is
refused, not inflated. A PDF pypdf cannot read has no e-invoice here: the page reading
(ocr.extract) then says what is wrong with it.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, EmbeddedFile

log = logging.getLogger(__name__)

STANDARD_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml")
XML_RELATIONSHIPS = ("/Data", "/Alternative", "/Source")
XML_SUBTYPES = ("/text/xml", "/application/xml", "/text#2Fxml", "/application#2Fxml")


@dataclass(frozen=True)
class Candidate:
    """An embedded file that may be the invoice XML; `data` is None where its stream
    could not be read (`error` says why)."""

    name: str
    found_by: str  # "name" (a standard file name) or "AF" (the associated-file relationship)
    data: bytes | None
    error: str | None = None


def _name(spec: DictionaryObject) -> str:
    for key in ("/UF", "/F"):
        value = spec.get(key)
        if value is not None:
            return str(value.get_object())
    return ""


def _content(name: str, spec: DictionaryObject) -> tuple[bytes | None, str | None]:
    try:
        return EmbeddedFile(name, spec).content, None
    except Exception as exc:  # a broken or oversized stream: reported, never raised
        return None, f"{type(exc).__name__}: {exc}"[:200]


def _is_xml_file(name: str, spec: DictionaryObject) -> bool:
    if name.lower().endswith(".xml"):
        return True
    try:
        subtype = EmbeddedFile(name, spec).subtype
    except Exception:
        return False
    return subtype is not None and str(subtype).lower() in XML_SUBTYPES


def _associated(
    reader: PdfReader, named: list[EmbeddedFile]
) -> Iterator[tuple[str, DictionaryObject]]:
    """File specifications the catalog's /AF array or the embedded files relate as the
    document's data, alternative or source."""
    af = reader.trailer["/Root"].get_object().get("/AF")
    specs: list[DictionaryObject] = []
    if af is not None and isinstance(af.get_object(), ArrayObject):
        specs += [s.get_object() for s in af.get_object()]
    specs += [f.pdf_object for f in named]
    for spec in specs:
        if not isinstance(spec, DictionaryObject):
            continue
        if str(spec.get("/AFRelationship", "")) in XML_RELATIONSHIPS:
            yield _name(spec), spec


def candidates(pdf: bytes) -> list[Candidate]:
    """The embedded files that may be the invoice XML, the standard names first; empty
    for a PDF without any (or one pypdf cannot read)."""
    try:
        reader = PdfReader(io.BytesIO(pdf), strict=False)
        named = list(reader.attachment_list)
        out: list[Candidate] = []
        seen: set[int] = set()
        for standard in STANDARD_NAMES:
            for f in named:
                if f.name.lower() == standard and id(f.pdf_object) not in seen:
                    seen.add(id(f.pdf_object))
                    out.append(Candidate(f.name, "name", *_content(f.name, f.pdf_object)))
        for name, spec in _associated(reader, named):
            if id(spec) in seen or any(c.name == name for c in out):
                continue
            if _is_xml_file(name, spec):
                seen.add(id(spec))
                out.append(Candidate(name, "AF", *_content(name, spec)))
        return out
    except Exception as exc:  # not readable as a PDF by pypdf: no e-invoice found here
        log.debug("looking for an embedded e-invoice failed: %s", exc)
        return []
