"""Parsing untrusted XML: no DTD, no entities, no network, nothing large.

An e-invoice (CII or UBL) is defined by XML Schemas and never needs a document type
declaration, so a document that declares one is refused outright rather than parsed
with its entities left unexpanded: a billion-laughs bomb and an XXE file that would read
/etc/passwd are both refused before libxml2 sees them (the declaration is looked for in
the raw bytes, in UTF-8 and UTF-16), and again after parsing (the parser itself never
resolves entities, loads a DTD or touches the network, so nothing got through on the
way). lxml's default limits on depth and text size stay on (no huge_tree).
"""

from __future__ import annotations

from lxml import etree

MAX_XML_BYTES = 20_000_000  # a large e-invoice with thousands of lines is ~5 MB

_DECLARATIONS = [
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
]


class XmlRefused(Exception):
    """The XML is not read: unsafe or not well-formed. `reason` says why, in words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _parser() -> etree.XMLParser:
    # a parser per call: lxml parsers are not to be shared between threads
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def parse(data: bytes) -> etree._Element:
    """The root element of `data`; raises XmlRefused for a document that declares a DTD
    or entities, one too large, or one that is not well-formed XML."""
    if len(data) > MAX_XML_BYTES:
        raise XmlRefused(
            f"the XML is too large to read safely ({len(data) // 1_000_000} MB, limit "
            f"{MAX_XML_BYTES // 1_000_000} MB)"
        )
    if any(marker in data for marker in _DECLARATIONS):
        raise XmlRefused(
            "the XML declares a document type or entities (DOCTYPE / ENTITY), which an "
            "e-invoice never needs: refused as unsafe (entity expansion or external entities)"
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise XmlRefused(f"the XML is not well-formed ({exc.msg})") from exc
    except ValueError as exc:  # e.g. a str with an encoding declaration; bytes never
        raise XmlRefused(f"the XML cannot be read ({exc})") from exc
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise XmlRefused(
            "the XML declares a document type (DOCTYPE), which an e-invoice never needs: "
            "refused as unsafe"
        )
    return root
