"""Which e-invoice syntax a parsed XML document is, by its root element.

CII: rsm:CrossIndustryInvoice (ZUGFeRD 2.x, Factur-X, XRechnung CII) or ZUGFeRD 1.0's
rsm:CrossIndustryDocument. UBL: an Invoice or a CreditNote in the UBL 2.1 namespaces
(Peppol BIS Billing 3.0, XRechnung UBL). A Peppol business document envelope (SBDH) around
either is looked into. Anything else (an Order-X order, a camt statement, an HTML page
saved as XML) is not an e-invoice.
"""

from __future__ import annotations

from typing import Literal

from lxml import etree

from ocr.einvoice import cii, ubl

SBDH_NS = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
_ENVELOPE = etree.QName(SBDH_NS, "StandardBusinessDocument").text

Syntax = Literal["cii", "ubl"]


def invoice_root(root: etree._Element) -> etree._Element:
    """The document itself: the payload of an SBDH envelope, else `root`."""
    if root.tag == _ENVELOPE:
        for child in root:
            if isinstance(child.tag, str) and etree.QName(child).localname != (
                "StandardBusinessDocumentHeader"
            ):
                return child
    return root


def syntax_of(root: etree._Element) -> Syntax | None:
    """ "cii" or "ubl" for an e-invoice's root element, else None."""
    if cii.dialect_of(root) is not None:
        return "cii"
    if ubl.is_ubl(root):
        return "ubl"
    return None


def describe(root: etree._Element) -> str:
    """The root element in words: "an XML document whose root is Order (urn:…)"."""
    if not isinstance(root.tag, str):
        return "an XML document without a root element"
    name = etree.QName(root)
    where = f" ({name.namespace})" if name.namespace else " (no namespace)"
    return f"an XML document whose root is {name.localname}{where}"
