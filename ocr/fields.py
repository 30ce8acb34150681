"""Invoice fields from a laid-out document: find a label, read the value beside or below it.

Nothing here knows a template. A field is a list of labels (English, German, French,
Dutch, Spanish and Chinese), each with a weight: how sure a value found there is that
field (a SIRET or KvK number is a supplier's tax id only where no VAT number is). A value
is read from the rest of the label's line up to the next label, else from the cell right
under the label. Buyer and supplier share labels (VAT ID, 名称, 纳税人识别号); which party
a label belongs to comes from the nearest party marker before it ("Bill to", 购买方, 销售方).
Net, tax and total are chosen together: the combination that adds up wins. Without a
printed due date, payment terms ("Net 30", "Zahlbar innerhalb von 14 Tagen", "à 30 jours
fin de mois", "binnen 30 dagen", "a 30 días") give it, less sure than a printed one.
`language` tells en/de/fr/nl/es/zh by a vote of distinctive words.

OCR's look-alikes (0/O, 1/I/l, 5/S, 8/B) are put right in ids whose shape says which one
is meant (a GSTIN, a USCC, an EU VAT number, the digits of an invoice number); a repair
its check character does not prove leaves the id doubtful (REPAIRED_CONFIDENCE). On a
Chinese form the yuan sign OCR reads as "Y", "*Y" or "半" is taken for "¥".
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from ocr.chinese import invoice_kind, parse_capitals
from ocr.layout import Line, Word, is_cjk
from ocr.normalize import (
    CURRENCY_RE,
    WORDLIKE_CODES,
    IdRepair,
    TermsMatch,
    compact,
    currency_code,
    currency_of,
    due_from_terms,
    find_amounts,
    find_dates,
    find_payment_terms,
    fold,
    iban_is_proven,
    iban_is_valid,
    infer_dayfirst,
    repair_invoice_number,
    repair_tax_id,
)


@dataclass(frozen=True)
class Label:
    field: str
    rx: re.Pattern
    weight: float = 1.0
    kind: str = "text"  # id | cn_number | date | amount | text | taxid | iban | ref | code | digits
    pick: str = "last"  # amounts: which one of several on the line
    party: str | None = None  # "buyer"/"supplier": fixed; "context": from markers
    adjacent: bool = False  # value must follow the label directly (no look below)
    min_amounts: int = 1  # amounts: ignore the label unless this many follow


def _rx(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


_NO = r"(?:no\.?|number|nummer|nr\.?|n[úu]m(?:ero|\.)?|#|n\.?\s?[°º])"
_TAX = (
    r"(?:vat|tax|mwst|ust|umsatzsteuer|mehrwertsteuer|gst|igst|cgst|sgst|sales\s*tax|tva|iva|btw)"
)
_NOT_TAX_BEFORE = (
    r"(?<!ohne\s)(?<!excl\.\s)(?<!excl\s)(?<!excluding\s)(?<!before\s)(?<!without\s)"
    r"(?<!w/o\s)(?<!incl\.\s)(?<!incl\s)(?<!inkl\.\s)(?<!inkl\s)(?<!including\s)"
    r"(?<!inclusive\sof\s)(?<!net\sof\s)(?<!hors\s)(?<!sin\s)(?<!con\s)(?<!zonder\s)"
    r"(?<!exkl\.\s)(?<!inclusief\s)(?<!exclusief\s)(?<!ex\.\s)"
)
_NOT_TAX_AMOUNT = (
    r"(?!\s*[-/]?\s*(?:id|no\b|number|nr|reg|#|/|ident|payer|code|exempt|rate|tin|point|"
    r"nummer|n[°º]|intra|incl|inbegrepen|identif))"
)

LABELS: list[Label] = [
    # invoice number
    Label("invoice_number", _rx(rf"\binvoice\s*{_NO}"), 1.0, "id"),
    Label("invoice_number", _rx(rf"\bcredit\s*(?:note|memo)\s*{_NO}"), 1.0, "id"),
    Label("invoice_number", _rx(r"\brechnungs?[\s-]*(?:nr\.?|nummer|no\.?)"), 1.0, "id"),
    Label("invoice_number", _rx(r"\bgutschrifts?[\s-]*(?:nr\.?|nummer)"), 1.0, "id"),
    Label("invoice_number", _rx(r"发?票\s*号\s*码|票据号码"), 1.0, "cn_number"),
    Label("invoice_number", _rx(r"\bfacture\s*n[°o]|n[°o]\s*de\s*facture"), 1.0, "id"),
    Label("invoice_number", _rx(rf"\b(?:bill|receipt|document|doc\.?)\s*{_NO}"), 0.9, "id"),
    Label("invoice_number", _rx(r"\bbeleg[\s-]*(?:nr\.?|nummer)"), 0.9, "id"),
    Label("invoice_number", _rx(rf"\b(?:cash\s*)?inv\.?\s*{_NO}"), 0.9, "id"),
    Label(
        "invoice_number",
        _rx(
            r"\b(?:invoice|rechnung|facture|factuur|factura)\b"
            r"(?!\s*(?:date|datum|to|total|amount|fecha|adres))"
        ),
        0.85,
        "id",
        adjacent=True,
    ),
    Label("invoice_number", _rx(r"\bbooking\s*(?:id|no\.?|number|ref(?:erence)?)"), 0.75, "id"),
    # dates
    Label(
        "invoice_date",
        _rx(
            r"\binvoice\s*date|\bdate\s*of\s*(?:issue|invoice)|\bissue\s*date|\bdate\s*issued|"
            r"\bbilling\s*date|\brechnungsdatum|\bdatum\s*der\s*rechnung|开?票\s*日\s*期|"
            r"\bcredit\s*note\s*date|\bgutschriftsdatum|\bdate\s*de\s*facture|\bbelegdatum"
        ),
        1.0,
        "date",
    ),
    Label(
        "invoice_date",
        _rx(
            r"(?:\bdate\b|\bfecha\b)(?!\s*(?:de\s+|d['’]\s*)(?:la\s+)?(?:livraison|commande|"
            r"[ée]ch[ée]ance|vencimiento|entrega|pedido|paiement|pago|prestation|expiration))|"
            r"\bdatum\b|日期"
        ),
        0.8,
        "date",
    ),
    Label(
        "due_date",
        _rx(
            r"\bdue\s*date|\bpayment\s*due|\bdate\s*due|\bdue\s*(?:by|on)\b|\bf(?:ä|a)llig\w*(?:\s*am)?|"
            r"\bzahlbar\s*bis|\bzahlungsziel|\bpayable\s*(?:by|until)|\bpay\s*by|\b[ée]ch[ée]ance"
        ),
        1.0,
        "date",
    ),
    # money
    Label("total", _rx(r"价\s*税\s*合\s*计|小\s*写"), 1.0, "amount"),
    Label(
        "total",
        _rx(
            r"\bgrand\s*total|\btotal\s*amount\s*due|\bamount\s*due|\btotal\s*due|\bbalance\s*due|"
            r"\binvoice\s*total|\btotal\s*(?:amount|payable|to\s*pay|for\s*this\s*invoice)|"
            r"\bamount\s*payable|\btotal\s*(?:incl\.?|including|inkl\.?|with)\s*(?:vat|tax|gst|mwst)?|"
            r"\bgesamtbetrag|\brechnungsbetrag|\bendbetrag|\bbruttobetrag|\bgesamtsumme|"
            r"\bzu\s*zahlen(?:der\s*betrag)?|\bzahlbetrag|\btotal\s*ttc|\bmontant\s*ttc"
        ),
        1.0,
        "amount",
    ),
    Label(
        "total",
        _rx(
            r"(?<!sub)(?<!sub-)(?<!sub\s)\btotal\b(?!\s*(?:net|excl|excluding|before|w/o|without|"
            r"vat|tax|gst|mwst|qty|quantity|items?|pages?|ht|h\.t|hors|tva|iva|btw|sin|base)\b)"
        ),
        0.9,
        "amount",
    ),
    Label("total", _rx(r"\bsumme\b|\bgesamt\b"), 0.8, "amount"),
    Label(
        "subtotal",
        _rx(
            r"\bsub[\s-]?total|\bzwischensumme|\bnet\s*(?:amount|total|value)|\btotal\s*net\b|"
            r"\bnettobetrag|\bnetto\s*betrag|\bsumme\s*netto|\bgesamt\s*netto|\bnettosumme|"
            r"\btotal\s*(?:excl\.?|excluding|before|w/o|without)\s*(?:vat|tax|gst)?|"
            r"\bamount\s*(?:excl\.?|before)\s*(?:vat|tax)|\btaxable\s*(?:amount|value)|"
            r"\bmontant\s*ht|\btotal\s*ht"
        ),
        1.0,
        "amount",
    ),
    Label("subtotal", _rx(r"(?<!价税)合\s*计"), 0.95, "amount", pick="first"),
    Label(  # not the "Net 30" of payment terms
        "subtotal",
        _rx(
            r"(?<!terms\s)(?<!terms:\s)(?:\bnetto\b|\bnet\b)"
            r"(?!\s*\d{1,3}\s*(?:days?|tage?n?|dagen|jours|d[íi]as)\b)"
        ),
        0.7,
        "amount",
    ),
    # "Charges $4.11" over "Tax $0.00" (a cloud or utility bill): the net, where a line
    # starts with the word; never "Room Charges" or "Total charges"
    Label("subtotal", _rx(r"^\s*charges\b(?!\s*(?:for|of|to|from)\b)"), 0.6, "amount"),
    Label(
        "tax_amount",
        _rx(rf"{_NOT_TAX_BEFORE}(?:\btotal\s*)?\b{_TAX}\b\.?{_NOT_TAX_AMOUNT}"),
        1.0,
        "amount",
    ),
    Label("tax_amount", _rx(r"(?<!价税)合\s*计"), 0.95, "amount", min_amounts=2),
    # parties
    Label(
        "tax_id",
        _rx(
            r"\bvat\s*(?:id|no\.?|number|reg(?:istration)?\.?\s*(?:no\.?|number)?)|"
            r"\bust[\s.-]*id(?:[\s.-]*nr\.?)?|\bustidnr\.?|\bvat/tin|\btax\s*(?:id|no\.?|number)|"
            r"\btin\b|\bgstin\b|\bgst\s*(?:no|number|reg\w*)|纳税人识别号|统一社会信用代码|税\s*号|"
            r"\babn\b|\bn\.?\s?[°º]\s*tva(?:\s*intracom\w*)?|\btva\s*intracom\w*"
        ),
        1.0,
        "taxid",
        party="context",
    ),
    Label("tax_id", _rx(r"\bsteuer[\s-]*nr\.?|\bsteuernummer"), 0.8, "taxid", party="context"),
    Label("supplier_iban", _rx(r"\biban\b"), 1.0, "iban", party="context"),
    Label(
        "payment_reference",
        _rx(
            r"\bpayment\s*ref(?:erence|\.)?|\bzahlungsreferenz|\bverwendungszweck|"
            r"\bremittance\s*(?:reference|info\w*)|\bcommunication\s*for\s*your\s*payment|"
            r"\breference\s*for\s*(?:your\s*)?payment|\bréférence\s*de\s*paiement"
        ),
        1.0,
        "ref",
    ),
    Label(
        "supplier_name",
        _rx(
            r"\bsold\s*by|\bseller\b|\bsupplier\b|\bvendor\b|\bservice\s*provider|\blieferant\b|"
            r"\bverk(?:ä|a)ufer\b|\bissued\s*by"
        ),
        0.95,
        "text",
        party="supplier",
    ),
    Label(
        "buyer_name",
        _rx(
            r"\bbill(?:ed)?\s*to(?:\s*address)?|\binvoice\s*to|\bsold\s*to|\bbilling\s*address|"
            r"\bcustomer(?!\s*(?:no|number|nr|id|#|ref\w*|care|service)\b)|\bkunde\b|"
            r"\brechnungsempf(?:ä|a|ae)nger|\brechnungsadresse"
        ),
        0.9,
        "text",
        party="buyer",
    ),
    Label("name", _rx(r"名\s*称|\bname\b"), 0.95, "text", party="context"),
    Label("currency", _rx(r"\bcurrency\b|\bw(?:ä|a)hrung\b|币\s*种"), 1.0, "code"),
    # Chinese VAT invoices: 发票代码 (10 or 12 digits), 校验码 (20 digits, in groups of five)
    Label("invoice_code", _rx(r"发?\s*票\s*代\s*码"), 1.0, "digits"),  # OCR may lose the 发
    Label("check_code", _rx(r"校\s*验\s*码"), 1.0, "digits"),
]

# French, Dutch and Spanish labels (and a few more German ones); OCR may drop an accent.
LABELS += [
    Label(
        "invoice_number",
        _rx(
            r"\bfactuur[\s-]*(?:nummer|nr\.?|no\.?)|\bnum[ée]ro\s*de\s*facture|"
            r"\bfacture\s*n\.?\s?[°º%]|\bn\.?\s?[°º]\s*(?:de\s*)?factur[ae]|"
            r"\bn[úu]m(?:ero|\.)?\s*(?:de\s*)?factura|"
            # OCR: nº as n%, n2, n? or n*
            r"\bfactur[ae]\s*(?:n\.?\s?[°º%]|n[úu]m(?:ero|\.)?|n[oe2?*](?=\s*[:.]))"
        ),
        1.0,
        "id",
    ),
    Label(
        "invoice_date",
        _rx(
            r"\bfactuur\s*datum|\bdate\s*(?:de\s*(?:la\s*)?)?facture|\bdate\s*d['’]\s*[ée]mission|"
            r"\bfecha\s*(?:de\s*)?(?:la\s*)?(?:factura|emisi[óo]n|expedici[óo]n)"
        ),
        1.0,
        "date",
    ),
    Label(
        "due_date",
        _rx(
            r"\bverval\s*datum|\buiterste\s*betaal\s*datum|\bte\s*betalen\s*v[óo]{1,2}r|"
            r"\bdate\s*d['’]\s*[ée]ch[ée]ance|\bdate\s*limite\s*de\s*(?:paiement|r[èe]glement)|"
            r"\b[àa]\s*payer\s*avant(?:\s*le)?|\bfecha\s*(?:de\s*)?vencimiento|\bvencimiento\b"
        ),
        1.0,
        "date",
    ),
    Label(
        "total",
        _rx(
            r"\bnet\s*[àa]\s*payer|\btotal\s*[àa]\s*payer|\bmontant\s*(?:total|[àa]\s*payer)|"
            r"\btotal\s*t\.t\.c|\btotaal\s*(?:incl\.?|inclusief)\s*(?:btw)?|\btotaalbedrag|"
            r"\b(?:totaal\s*)?te\s*betalen\b|\btotal\s*(?:de\s*(?:la\s*)?)?factura|"
            r"\bimporte\s*total|\btotal\s*a\s*pagar|\btotal\s*\(?\s*(?:con\s*)?iva\s*incluido\s*\)?"
        ),
        1.0,
        "amount",
    ),
    Label(
        "total",
        _rx(r"\btotaal\b(?!\s*(?:excl|exclusief|ex\b|btw|aantal))"),
        0.9,
        "amount",
    ),
    Label(
        "subtotal",
        _rx(
            r"\bsous[\s-]?total|\btotal\s*h\.t|\bmontant\s*h\.t|\btotal\s*hors\s*taxes?|"
            r"\bsubtotaal|\btotaal\s*(?:excl\.?|exclusief|ex\.?)\s*(?:btw)?|"
            r"\bbedrag\s*(?:excl\.?|exclusief)\s*(?:btw)?|\bbase\s*imponible|\bimporte\s*neto"
        ),
        1.0,
        "amount",
    ),
    Label(
        "tax_id",
        _rx(
            r"\bbtw[\s-]*(?:nummer|nr\.?|no\.?|id(?:entificatie)?(?:nummer)?)|"
            r"\bnum[ée]ro\s*(?:de\s*)?tva(?:\s*intracom\w*)?|\bnif[\s/-]*cif\b|"
            r"\b(?:n\.?i\.?f|c\.?i\.?f)\b\.?|\bn\.?\s?[°º]\s*(?:de\s*)?iva|\biva\s*intracomunitari\w*"
        ),
        1.0,
        "taxid",
        party="context",
    ),
    # registration numbers: a tax id only where no VAT number is printed
    Label(
        "tax_id",
        _rx(r"\bsiret\b|\bsiren\b|\bkvk(?:[\s-]*(?:nummer|nr\.?))?|\bkamer\s*van\s*koophandel"),
        0.8,
        "taxid",
        party="context",
    ),
    Label(
        "payment_reference",
        _rx(
            r"\bbetalingskenmerk|\bbetalings\s*referentie|\breferencia\s*(?:de\s*)?pago|"
            r"\bconcepto\s*(?:de\s*)?pago"
        ),
        1.0,
        "ref",
    ),
    Label(
        "supplier_name",
        _rx(r"\bfournisseur\b|\bvendeur\b|\bleverancier\b|\bproveedor\b|\bemisor\b"),
        0.95,
        "text",
        party="supplier",
    ),
    Label(
        "buyer_name",
        _rx(
            r"\bfactur[ée]\s*[àa]\b|\badresse\s*de\s*facturation|"
            r"\bclient\b(?!\s*(?:n\.?\s?[°º]|num\w*|no\b|code|r[ée]f\w*))|"
            r"\bklant\b(?!\s*(?:nr|nummer|no)\b)|\bfactuuradres|"
            r"\bcliente\b(?!\s*(?:n\.?\s?[°º]|n[úu]m\w*|c[óo]digo))|\bfacturar\s*a\b"
        ),
        0.9,
        "text",
        party="buyer",
    ),
    Label("currency", _rx(r"\bdevise\b|\bvaluta\b|\bmoneda\b"), 1.0, "code"),
]

BUYER_MARKERS = _rx(
    r"购\s*买\s*方|购方|买方|\bbill(?:ed)?\s*to|\bbilling\s*address|\binvoice\s*to|\bsold\s*to|"
    r"\bcustomer\b|\bkunde\b|\brechnungsempf(?:ä|a|ae)nger|\bship(?:ping)?\s*(?:to|address)|\bguest\b|"
    r"\bfactur[ée]\s*[àa]\b|\badresse\s*de\s*facturation|\bclient\b|\bklant\b|\bfactuuradres|"
    r"\bcliente\b|\bfacturar\s*a\b|\bdestinatario\b|\bdestinataire\b"
)
SUPPLIER_MARKERS = _rx(
    r"销\s*售\s*方|销方|卖方|\bsold\s*by|\bseller\b|\bsupplier\b|\bvendor\b|\bservice\s*provider|"
    r"\blieferant\b|\bverk(?:ä|a)ufer\b|\bfournisseur\b|\bvendeur\b|\bleverancier\b|\bverkoper\b|"
    r"\bproveedor\b|\bemisor\b|\bvendedor\b"
)
DATE_QUALIFIERS = {
    "due",
    "order",
    "delivery",
    "ship",
    "shipping",
    "payment",
    "value",
    "booking",
    "check",
    "in",
    "out",
    "start",
    "end",
    "expiry",
    "posting",
    "service",
    "birth",
    "print",
    "printed",
    "dispatch",
    "leistungs",
    "liefer",
    "bestell",
    "zahlungs",
    "fälligkeits",
}
CREDIT_NOTE_RX = _rx(
    r"\bcredit\s*(?:note|memo)\b|\bgutschrift\b|\brechnungskorrektur\b|"
    r"\bstornorechnung\b|\bavoir\b|\bcreditnota\b|\bcreditfactuur\b|"
    r"\bfactura\s*(?:rectificativa|de\s*abono)\b|销项负数|红字"
)
LEGAL_FORM_RX = re.compile(  # case-sensitive: "AG", "AB", "Oy" are words in lower case
    r"(?<![\w.])(?:GmbH(?:\s*&\s*Co\.?\s*KG)?|AG|KG|OHG|UG|e\.\s?K\.|Ltd\.?|LTD\.?|Limited|"
    r"LIMITED|Inc\.?|INC\.?|LLC|LLP|PLC|plc|Corp\.?|Corporation|S\.A\.S?|SAS|SARL|B\.V\.|BV|"
    r"N\.V\.|S\.p\.A\.|S\.r\.l\.|S\.L\.(?:U\.)?|SLU?|EURL|Oy|AB|A/S|Pvt\.?\s*Ltd\.?|"
    r"Private\s+Limited|SDN\.?\s*BHD\.?|Sdn\.?\s*Bhd\.?|BHD\.?|Bhd\.?|S/B|PTE\.?\s*LTD\.?|"
    r"Pte\.?\s*Ltd\.?)(?!\w)(?!\.?\s*(?:GST|VAT|Tax|TAX|tax)\b)|"
    r"有限公司|公司"
)
TITLE_RX = _rx(
    r"(?:tax\s*|vat\s*|commercial\s*|proforma\s*|pro-forma\s*)?(?:invoice|receipt|bill|"
    r"payment\s*receipt|credit\s*note|rechnung|quittung|gutschrift|facture|factuur|factura|"
    r"creditnota|avoir)s?\b|"
    r"[^\n]{0,8}(?:发票|收据)"
)
# Words that tell a document's language: labels and the commonest small words, each
# distinctive of one language (shared ones like "total", "date", "netto" are left out).
# Accents optional: an English OCR pass may read "é" as "e".
LANGUAGE_WORDS = {
    "en": _rx(
        r"\b(?:invoice|bill(?:ed)?|amount|due|tax|vat|payment|quantity|qty|price|subtotal|the|"
        r"and|of|for|please|thank|number|terms|days|customer)\b"
    ),
    "de": _rx(
        r"\b(?:rechnung\w*|mwst|ust|umsatzsteuer|steuer\w*|zahlbar|zahlung\w*|gesamt\w*|"
        r"brutto\w*|bankverbindung|menge|beschreibung|einzelpreis|kunde\w*|tagen?|innerhalb|"
        r"und|der|die|das|für|bitte|betrag|lieferant|nettobetrag|leistung\w*)\b"
    ),
    "fr": _rx(
        r"\b(?:factur(?:e|é|ée|es|ation)|montant|tva|ttc|ht|[ée]ch[ée]ance|d[ée]signation|"
        r"quantit[ée]|prix|unitaire|paiement|r[èe]glement|jours|le|la|les|du|des|et|client|"
        r"siret|intracommunautaire|soci[ée]t[ée]|fournisseur)\b"
    ),
    "nl": _rx(
        r"\b(?:factuur\w*|btw|totaal|bedrag|omschrijving|aantal|prijs|klant|betaling\w*|"
        r"dagen|binnen|het|een|van|te|betalen|vervaldatum|kvk|subtotaal|leverancier)\b"
    ),
    "es": _rx(
        r"\b(?:factura[rs]?|fecha|vencimiento|iva|importe|imponible|cantidad|descripci[óo]n|"
        r"precio|cliente|pago|d[íi]as|nif|cif|del|los|las|el|y|proveedor)\b"
    ),
}
MIN_LANGUAGE_WORDS = 3


@dataclass
class Found:
    """One field value and how sure we are of it."""

    value: object
    conf: float
    weight: float = 1.0
    line: int = 0
    pos: int = 0
    currency: str | None = None  # amounts: currency printed next to it
    parts: int = 1  # amounts: how many printed amounts were added up (one tax per rate)


@dataclass
class Hit:
    label: Label
    line: int
    start: int
    end: int


@dataclass
class Fields:
    """What `extract_fields` found: field name -> Found, and the total in words."""

    values: dict[str, Found] = field(default_factory=dict)
    amount_in_words: Found | None = None
    tax_lines: list[int] = field(default_factory=list)  # lines a tax amount is labelled on


# ---------------------------------------------------------------- label hits


def _hits(lines: list[Line], labels: list[Label]) -> list[list[Hit]]:
    """Label occurrences per line, overlaps resolved in favour of the longer label."""
    out = []
    for i, line in enumerate(lines):
        text = fold(line.text)
        found = [
            Hit(lb, i, m.start(), m.end())
            for lb in labels
            for m in lb.rx.finditer(text)
            if m.end() > m.start()
        ]
        if "ı" in text:  # OCR's dotless ı: an i or an l that lost its dot ("Totaı EUR")
            seen = {(id(h.label), h.start, h.end) for h in found}
            for variant in (text.replace("ı", "i"), text.replace("ı", "l")):
                for lb in labels:
                    for m in lb.rx.finditer(variant):
                        if m.end() > m.start() and (id(lb), m.start(), m.end()) not in seen:
                            seen.add((id(lb), m.start(), m.end()))
                            found.append(Hit(lb, i, m.start(), m.end()))
        # a supplier template's labels (weight > 1) come first, then the longer label
        found.sort(key=lambda h: (h.label.weight <= 1, -(h.end - h.start), -h.label.weight))
        kept: list[Hit] = []
        for h in found:
            same_span = [k for k in kept if k.start == h.start and k.end == h.end]
            overlaps = [k for k in kept if k.start < h.end and h.start < k.end]
            if not overlaps or (same_span and len(same_span) == len(overlaps)):
                kept.append(h)  # the same words may label two fields (合计: net and tax)
        kept = [h for h in kept if not _qualified_generic_date(text, h)]
        out.append(sorted(kept, key=lambda h: h.start))
    return out


def _qualified_generic_date(text: str, hit: Hit) -> bool:
    """'Due Date', 'Order Date': a generic date label the word before makes specific."""
    if hit.label.field != "invoice_date" or hit.label.weight >= 1.0:
        return False
    before = re.findall(r"[^\W\d_]+", text[: hit.start][-20:])
    return bool(before) and before[-1].lower() in DATE_QUALIFIERS


def _markers(lines: list[Line]) -> list[tuple[int, int, str]]:
    out = []
    for i, line in enumerate(lines):
        text = fold(line.text)
        out += [(i, m.start(), "buyer") for m in BUYER_MARKERS.finditer(text)]
        out += [(i, m.start(), "supplier") for m in SUPPLIER_MARKERS.finditer(text)]
    return sorted(out)


def _party(lines: list[Line], markers: list[tuple[int, int, str]], hit: Hit) -> str | None:
    """The party of the nearest marker before `hit`: same line to its left, or 4 lines up."""
    best = None
    for i, pos, party in markers:
        if (i, pos) > (hit.line, hit.start):
            break
        if i == hit.line and pos == hit.start:
            continue
        if lines[i].page == lines[hit.line].page and hit.line - i <= 4:
            best = party
    return best


# ---------------------------------------------------------------- values


_SEPARATORS = " \t:：;；.=-–|>"  # ";" and "；": how OCR reads some colons


def _value_spans(
    lines: list[Line], hits: list[list[Hit]], hit: Hit
) -> Iterator[tuple[int, int, int]]:
    """Where the value of `hit` may be: (line, start, end) text spans, best first."""
    line = lines[hit.line]
    later = [h.start for h in hits[hit.line] if h.start >= hit.end]
    end = min(later, default=len(line.text))
    yield hit.line, hit.end, end
    if hit.label.adjacent:
        return
    if hit.label.kind == "amount":
        money_labels = {(h.start, h.end) for h in hits[hit.line] if h.label.kind == "amount"}
        rest = list(line.text)
        for h in hits[hit.line]:
            rest[h.start : h.end] = " " * (h.end - h.start)
        if len(money_labels) < 2 or any(c.isdigit() for c in rest):
            return  # amounts sit under a row of money labels only ("Net  VAT  Total")
    label_words = line.words_in(hit.start, hit.end)
    x0, x1 = min(w.x0 for w in label_words), max(w.x1 for w in label_words)
    height = line.height
    bottom = line.y1
    taken = 0
    for j in range(hit.line + 1, min(hit.line + 4, len(lines))):
        below = lines[j]
        if below.page != line.page or below.y0 - bottom > 2.5 * height:
            break
        under = [k for k, w in enumerate(below.words) if w.x0 < x1 + height and x0 - height < w.x1]
        if not under:
            continue
        segs = {below.segment_of[k] for k in under}
        idx = [k for k, s in enumerate(below.segment_of) if s in segs]
        start, stop = below.spans[idx[0]][0], below.spans[idx[-1]][1]
        stops = [h.start for h in hits[j] if start < h.start < stop]
        if any(h.start <= start < h.end for h in hits[j]):
            break  # the cell below is another label: a table of labels, not a value
        yield j, start, min(stops, default=stop)
        taken += 1
        bottom = below.y1
        if taken == 2:
            return


def _conf(words: list[Word], weight: float) -> float:
    base = min((w.conf for w in words), default=0.0)
    return round(max(0.0, min(1.0, base * weight)), 3)


_ID_RX = re.compile(r"(#\s*)?([A-Za-z0-9][A-Za-z0-9/_.\-]*[A-Za-z0-9]|[0-9]{1,2})")


def _parse_id(text: str) -> tuple[str, int, int] | None:
    """An invoice number: the first token with a digit that is not an amount or date."""
    stripped = text.lstrip(_SEPARATORS)  # "#" stays: "No. # BLR_1" is printed "#BLR_1"
    offset = len(text) - len(stripped)
    m = _ID_RX.match(stripped)
    if not m:
        return None
    token = m.group(2)
    if not any(c.isdigit() for c in token) or len(token) < 2:
        return None
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})*[.,]\d{2}", token) or find_dates(token):
        return None
    value = ("#" if m.group(1) else "") + token
    return value, offset + m.start(), offset + m.end()


def _parse_ref(text: str) -> tuple[str, int, int] | None:
    stripped = text.lstrip(_SEPARATORS)
    offset = len(text) - len(stripped)
    m = re.match(r"RF\d{2}(?:\s?[0-9A-Z]{1,4})+", stripped)
    if m:
        return compact(m.group(0)), offset, offset + m.end()
    return _parse_id(text)


_USCC_OCR_FIXES = str.maketrans("OISZ", "0152")  # letters a USCC never contains


def _parse_taxid(text: str) -> tuple[str, int, int] | None:
    stripped = text.lstrip(_SEPARATORS)
    offset = len(text) - len(stripped)
    m = re.match(r"(?:[A-Z]{2}\s?)?[0-9A-Z](?:[0-9A-Z]|[ ./-](?=[0-9A-Z])){5,24}", stripped)
    if not m:
        return None
    value = re.sub(r"[\s.]", "", m.group(0)).upper()
    if sum(c.isdigit() for c in value) < 5 or not 8 <= len(value) <= 20:
        return None
    if len(value) == 18 and value[:2].isdigit():  # a unified social credit code
        value = value.translate(_USCC_OCR_FIXES)
    return value, offset, offset + m.end()


_CHECK_DIGIT_MISREADS = str.maketrans("OoIlSBZ", "0011582")


def _parse_iban(text: str) -> tuple[str, int, int] | None:
    stripped = text.lstrip(_SEPARATORS)
    offset = len(text) - len(stripped)
    m = re.match(r"[A-Z]{2}[\dOoIlSBZ]{2}(?:\s?[A-Za-z0-9]){11,34}", stripped)
    if not m:
        return None
    raw = compact(m.group(0))
    # check digits are digits: a letter there is a misread with only one reading
    value = raw[:2] + raw[2:4].translate(_CHECK_DIGIT_MISREADS) + raw[4:]
    for n in range(len(value), 14, -1):  # text after the IBAN may have run into it
        if iban_is_valid(value[:n]):
            return value[:n], offset, offset + m.end()
    return value, offset, offset + m.end()


def _is_label(text: str) -> bool:
    """True if `text` starts with a label or party marker rather than a value."""
    return any(rx.match(text) for rx in (BUYER_MARKERS, SUPPLIER_MARKERS, TITLE_RX)) or any(
        lb.rx.match(text) for lb in LABELS
    )


def _parse_name(text: str) -> tuple[str, int, int] | None:
    stripped = text.lstrip(_SEPARATORS)
    offset = len(text) - len(stripped)
    cell = re.split(r"\s{3,}", stripped, maxsplit=1)[0]
    cell = re.sub(r"^(?:attn|z\.?\s*hd\.?)[:.]?\s*", "", cell, flags=re.IGNORECASE)
    value = cell.strip(" ,;:|")
    letters = sum(1 for c in value if c.isalpha() or is_cjk(c))
    if letters < 2 or value.startswith("(") or sum(c.isdigit() for c in value) > letters:
        return None
    if _is_label(value):
        return None
    if any(is_cjk(c) for c in value):  # Chinese names: full-width brackets, no spaces
        value = re.sub(r"\s*([()（）])\s*", r"\1", value).replace("(", "（").replace(")", "）")
    start = offset + stripped.index(value[0])
    return value, start, start + len(value)


def _parse_digits(text: str) -> tuple[str, int, int] | None:
    """A number printed as digits, maybe in groups ("23238 63613 14861 66204"): the digits."""
    m = re.match(r"[\s:：;；.]*([0-9](?:[0-9A-Z]| (?=[0-9A-Z]))*)", text)
    if not m:
        return None
    return m.group(1).replace(" ", ""), m.start(1), m.end(1)


CN_NUMBER_DIGITS = (8, 20)  # 发票号码: 8 digits on the paper form, 20 on a fully digital one


def _parse_cn_number(text: str) -> tuple[str, int, int] | None:
    """A 发票号码: its digits even where OCR split them ("05528 162"), if that gives one of
    the lengths the number has; else read as any invoice number."""
    digits = _parse_digits(text)
    if digits is not None and digits[0].isdigit() and len(digits[0]) in CN_NUMBER_DIGITS:
        return digits
    return _parse_id(text)


def _parse_code(text: str) -> tuple[str, int, int] | None:
    m = re.match(r"[\s:：]*([A-Z]{3})\b", text)  # printed as a code, not a word
    if not m:
        return None
    return m.group(1).upper(), m.start(1), m.end(1)


def _parse_amount(text: str, label: Label) -> tuple[Decimal, str | None, int, int] | None:
    amounts = find_amounts(text)
    money = [a for a in amounts if a.has_decimals or a.currency]
    if not money:
        if len(amounts) != 1:
            return None
        money = amounts
    if len(money) < label.min_amounts:
        return None
    chosen = money[0] if label.pick == "first" else money[-1]
    return chosen.value, chosen.currency, chosen.start, chosen.end


# How OCR reads the yuan sign of a Chinese form: "Y14,265.26", "*Y", "“YY", "半 13,457.80".
_YUAN_MISREAD_RX = re.compile(r"(?<![A-Za-z])[*“”\"'‘’#]{0,2}(?:Y{1,2}|¥|半|关|羊)(?=\s?\d)")


def _yuan_misreads(text: str) -> str:
    """`text` of a line with Chinese on it, each misread yuan sign as "¥" (same length)."""
    return _YUAN_MISREAD_RX.sub(lambda m: " " * (len(m.group(0)) - 1) + "¥", text)


# How OCR reads a "€" glued to its amount: "E1.448,07", "1.448,07E" (never a word).
_EURO_MISREAD_RX = re.compile(
    r"(?<![A-Za-z0-9])E(?=\d{1,3}(?:[.,]\d{3})*[.,]\d{2}(?![\d.,]))|(?<=\d[.,]\d{2})E(?![A-Za-z0-9])"
)


def _euro_misreads(text: str) -> tuple[str, list[int]]:
    """`text` of an OCR'd line with each "E" glued to an amount as "€" (same length), and
    where they were."""
    at = [m.start() for m in _EURO_MISREAD_RX.finditer(text)]
    for i in at:
        text = text[:i] + "€" + text[i + 1 :]
    return text, at


REPAIRED_CONFIDENCE = 0.5  # an OCR'd id whose look-alikes were put right without proof
# An IBAN its country's format and check digits prove (ocr.normalize.iban_is_proven): read
# right, however unsure tesseract was of a glyph ("DEO8" for "DE08", a check digit read
# as a letter, is the usual doubt on a scan).
PROVEN_CONFIDENCE = 0.9
_DATE_UNITS_RX = re.compile(r"[年月日号]+")  # the units of 2026年01月07日: no value in them


def _repair(kind: str, value: str, ocr: bool) -> IdRepair | None:
    """The look-alike repair of an OCR'd id (never of a text layer's), if it has one."""
    if not ocr:
        return None
    if kind == "taxid":
        return repair_tax_id(value)
    if kind in ("id", "cn_number"):
        return repair_invoice_number(value)
    return None


def _read(lines: list[Line], hits: list[list[Hit]], hit: Hit, dayfirst: bool) -> Found | None:
    """The first span near `hit` that parses as the label's kind of value.

    An OCR'd id is put right where its shape allows (ocr.normalize.repair_tax_id,
    repair_invoice_number); a repair no check character proves leaves it doubtful."""
    kind = hit.label.kind
    for j, start, end in _value_spans(lines, hits, hit):
        line = lines[j]
        raw = line.text[start:end]
        text = fold(raw)
        currency = None
        euro_at: list[int] = []
        if kind == "amount":
            if any(is_cjk(c) for c in line.text):
                text = _yuan_misreads(text)
            elif "E" in text and any(w.run is not None for w in line.words):
                text, euro_at = _euro_misreads(text)
            parsed = _parse_amount(text, hit.label)
            if parsed is None:
                continue
            value, currency, a, b = parsed
        elif kind == "date":
            dates = find_dates(text, dayfirst=dayfirst)
            if not dates:
                continue
            value, a, b = dates[0].value, dates[0].start, dates[0].end
        else:
            parser = {
                "id": _parse_id,
                "cn_number": _parse_cn_number,
                "ref": _parse_ref,
                "taxid": _parse_taxid,
                "iban": _parse_iban,
                "text": _parse_name,
                "code": _parse_code,
                "digits": _parse_digits,
            }[kind]
            parsed = parser(text)
            if parsed is None:
                continue
            value, a, b = parsed
            if kind == "text" and not any(is_cjk(c) for c in value):
                value = raw[a:b]  # names keep their own characters
        words = line.words_in(start + a, start + b) or line.words_in(start, end)
        if kind == "date":  # a misread 日 after the digits changes nothing of the date
            words = [w for w in words if not _DATE_UNITS_RX.fullmatch(w.text)] or words
        conf = _conf(words, hit.label.weight)
        if any(a <= i < b for i in euro_at):  # a misread "€": the digits may be misread too
            conf = min(conf, REPAIRED_CONFIDENCE)
        repair = _repair(kind, value, any(w.run is not None for w in words))
        if repair is not None and repair.repaired:
            value = repair.value
            if not repair.proven:
                conf = min(conf, REPAIRED_CONFIDENCE)
        if kind == "iban" and iban_is_proven(value):
            conf = max(conf, PROVEN_CONFIDENCE)
        return Found(value, conf, hit.label.weight, j, start + a, currency)
    return None


# ---------------------------------------------------------------- the document


def _best(cands: list[Found]) -> Found | None:
    if not cands:
        return None
    return sorted(cands, key=lambda f: (-f.weight, f.line, f.pos))[0]


CORROBORATED = 0.9


def _corroborated(total: Found, net: Found, tax: Found) -> dict[str, Found]:
    """Three amounts read separately that add up are right even where OCR was unsure."""
    out = {}
    for name, found in (("total", total), ("subtotal", net), ("tax_amount", tax)):
        out[name] = replace(found, conf=max(found.conf, CORROBORATED))
    return out


def _choose_amounts(cands: dict[str, list[Found]]) -> dict[str, Found]:
    """Total, net and tax: the best-labelled combination where net + tax = total."""

    def order(items: list[Found]) -> list[Found]:
        return sorted(items, key=lambda f: (-f.weight, -f.line, -f.pos))

    totals, nets, taxes = (order(cands.get(k, [])) for k in ("total", "subtotal", "tax_amount"))
    for t in totals:
        for s in nets:
            for x in taxes:
                if s.value + x.value == t.value and (s.line, s.pos) != (x.line, x.pos):
                    return _corroborated(t, s, x)
        if len(taxes) >= 2:
            by_line = {f.line: f for f in taxes}
            tax_sum = sum((f.value for f in by_line.values()), Decimal(0))
            for s in nets:
                if s.value + tax_sum == t.value:
                    first = min(by_line.values(), key=lambda f: f.conf)
                    summed = Found(
                        tax_sum, first.conf, first.weight, first.line, first.pos, None, len(by_line)
                    )
                    return _corroborated(t, s, summed)
    out: dict[str, Found] = {}
    if totals:
        t = out["total"] = totals[0]
        for name, items in (("subtotal", nets), ("tax_amount", taxes)):
            if items:
                top = max(f.weight for f in items)
                out[name] = min(
                    (f for f in items if f.weight == top),
                    key=lambda f: (abs(f.line - t.line), -f.line),
                )
    else:
        for name, items in (("subtotal", nets), ("tax_amount", taxes)):
            if items:
                out[name] = items[0]
    return out


def _symbol_currency(symbol: str, text: str, seen_with: float = 1.0) -> Found:
    """Currency of a printed symbol; `seen_with` is the confidence of the words it was on."""
    code, sure = currency_of(symbol)
    if symbol == "¥":  # also the yen sign: sure only in a Chinese document
        sure = 0.9 if any(is_cjk(c) for c in text) else 0.5
    return Found(code, round(sure * seen_with, 3))


def _currency(lines: list[Line], values: dict[str, Found], text: str) -> Found | None:
    """The currency: a code on the total's line, a phrase, the total's symbol, then a vote."""
    if "currency" in values:
        return values["currency"]
    total = values.get("total")
    if total is not None:
        line = lines[total.line]
        for m in reversed(list(CURRENCY_RE.finditer(fold(line.text)))):
            code = currency_code(m.group(0))
            if code and code not in WORDLIKE_CODES:
                return Found(code, _conf(line.words_in(m.start(), m.end()), 0.97), line=total.line)
    folded = fold(text)
    if re.search(r"\bUS\s*dollars?\b", folded, re.IGNORECASE):
        return Found("USD", 0.9)
    if "人民币" in text or invoice_kind(text.splitlines()):  # 增值税发票 are in yuan only
        return Found("CNY", 0.9)
    m = re.search(r"\b(?:amounts?|prices?|charges)\s+(?:are\s+)?in\s+([A-Z]{3})\b", folded)
    if m and currency_code(m.group(1)):
        return Found(currency_code(m.group(1)), 0.9)
    if total is not None and total.currency and currency_of(total.currency):
        return _symbol_currency(total.currency, text, total.conf / total.weight)
    votes: dict[str, list[float]] = {}  # currencies printed next to amounts anywhere
    for line in lines:
        for amount in find_amounts(line.text):
            if amount.currency and currency_of(amount.currency):
                vote = _symbol_currency(amount.currency, text)
                votes.setdefault(vote.value, []).append(vote.conf)
    if votes:
        code = max(votes, key=lambda c: (len(votes[c]), max(votes[c])))
        return Found(code, max(votes[code]))
    return None


def _supplier_name_fallback(
    lines: list[Line], markers: list[tuple[int, int, str]], buyer: object
) -> Found | None:
    """The issuer from the first page: a name with a legal form, else the letterhead line."""
    first_page = [ln for ln in lines if ln.page == lines[0].page]
    for i, line in enumerate(first_page):
        folded = fold(line.text)
        m = LEGAL_FORM_RX.search(folded)
        if not m or _party(lines, markers, Hit(LABELS[0], i, m.start(), m.end())) == "buyer":
            continue
        start = max(
            (
                line.spans[seg[0]][0]
                for seg in line.segments()
                if line.spans[seg[0]][0] <= m.start()
            ),
            default=0,
        )
        name = re.split(r"\s[-|·]\s|:\s", line.text[start : m.end()])[-1].strip(" ,;:-|")
        if name and name != buyer and sum(c.isalpha() for c in name) >= 3:
            words = line.words_in(start, m.end())
            return Found(name, _conf(words, 0.8), 0.8, i)
    for i, line in enumerate(first_page[:5]):
        seg = line.segments()[0]
        name = line.segment_text(seg).strip(" ,;:-|")
        if (
            sum(c.isalpha() or is_cjk(c) for c in name) >= 3
            and name != buyer
            and not _is_label(fold(name))
        ):
            return Found(name, _conf([line.words[k] for k in seg], 0.65), 0.65, i)
    return None


_WORDS_CELL_RX = re.compile(r"(?:大\s*写|价\s*税\s*合\s*计)[\s)）:：]*(.*?)(?:[(（]?\s*小\s*写|$)")


def _amount_in_words(lines: list[Line]) -> Found | None:
    """The total in Chinese capitals (价税合计(大写) cell), if the whole cell reads as one."""
    for i, line in enumerate(lines):
        m = _WORDS_CELL_RX.search(line.text)
        if not m or not m.group(1).strip():
            continue
        value = parse_capitals(m.group(1))  # None if any character of the cell is misread
        if value is not None:
            words = line.words_in(m.start(1), m.end(1))
            return Found(value, _conf(words, 1.0), 1.0, i, m.start(1))
    return None


TERMS_WEIGHT = 0.85  # a due date worked out from the terms is less sure than a printed one


def _due_from_terms(lines: list[Line], invoice_date: Found) -> Found | None:
    """The due date from payment terms ("Net 30", "Zahlbar innerhalb von 14 Tagen"):
    the invoice date plus the longest net term printed."""
    best: tuple[int, TermsMatch] | None = None
    for i, line in enumerate(lines):
        for terms in find_payment_terms(line.text):
            if best is None or terms.days > best[1].days:
                best = i, terms
    if best is None:
        return None
    i, terms = best
    words = lines[i].words_in(terms.start, terms.end)
    conf = round(min(_conf(words, 1.0), invoice_date.conf) * TERMS_WEIGHT, 3)
    due = due_from_terms(invoice_date.value, terms)
    return Found(due, conf, TERMS_WEIGHT, i, terms.start)


def extract_fields(lines: list[Line], extra_labels: Sequence[Label] = ()) -> Fields:
    """All header fields of the document laid out in `lines`.

    `extra_labels` (a supplier template's own labels) are looked for besides the generic
    ones; their weight decides whether they win.
    """
    text = "\n".join(line.text for line in lines)
    dayfirst = infer_dayfirst(text)
    hits = _hits(lines, [*extra_labels, *LABELS])
    markers = _markers(lines)
    cands: dict[str, list[Found]] = {}
    for line_hits in hits:
        for hit in line_hits:
            found = _read(lines, hits, hit, dayfirst)
            if found is None:
                continue
            name = hit.label.field
            if hit.label.party == "context":
                party = _party(lines, markers, hit)
                if name == "tax_id":
                    name = "buyer_tax_id" if party == "buyer" else "supplier_tax_id"
                elif name == "supplier_iban":
                    if party == "buyer":
                        continue
                elif name == "name":
                    if party is None:
                        continue
                    name = f"{party}_name"
            cands.setdefault(name, []).append(found)

    values: dict[str, Found] = {}
    for name, items in cands.items():
        if name not in ("total", "subtotal", "tax_amount"):
            values[name] = _best(items)
    values.update(_choose_amounts(cands))
    if "due_date" not in values and "invoice_date" in values:
        due = _due_from_terms(lines, values["invoice_date"])
        if due is not None:
            values["due_date"] = due
    if "supplier_name" not in values:
        buyer = values["buyer_name"].value if "buyer_name" in values else None
        fallback = _supplier_name_fallback(lines, markers, buyer)
        if fallback:
            values["supplier_name"] = fallback
    currency = _currency(lines, values, text)
    if currency:
        values["currency"] = currency
    tax_lines = sorted(
        {h.line for line_hits in hits for h in line_hits if h.label.field == "tax_amount"}
    )
    return Fields(values, _amount_in_words(lines), tax_lines)


def document_type(lines: list[Line]) -> str:
    """'credit_note' if the first lines title the document so, 'receipt' for a till
    receipt (ocr.receipts.is_receipt: the evidence), else 'invoice'."""
    from ocr.receipts import is_receipt  # ocr.receipts imports nothing of this module

    head = [ln for ln in lines if ln.page == lines[0].page][:15] if lines else []
    if any(CREDIT_NOTE_RX.search(fold(ln.text)) for ln in head):
        return "credit_note"
    return "receipt" if is_receipt(lines) else "invoice"


def language_votes(text: str) -> dict[str, int]:
    """How many words of `text` are distinctive of each of en, de, fr, nl, es."""
    folded = fold(text)
    return {lang: len(rx.findall(folded)) for lang, rx in LANGUAGE_WORDS.items()}


def language(text: str) -> str:
    """'zh', 'en', 'de', 'fr', 'nl' or 'es': the document's main language.

    Chinese by its characters; otherwise a vote of distinctive words: the language with
    the most, if at least MIN_LANGUAGE_WORDS of them and more than English has; else 'en'.
    """
    if sum(1 for c in text if is_cjk(c)) >= 10:
        return "zh"
    votes = language_votes(text)
    lang = max(("de", "fr", "nl", "es"), key=lambda k: votes[k])
    if votes[lang] >= MIN_LANGUAGE_WORDS and votes[lang] > votes["en"]:
        return lang
    return "en"
