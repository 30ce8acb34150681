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
    iban_fits_registry,
    iban_is_proven,
    iban_is_valid,
    infer_dayfirst,
    repair_currency_code,
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
    # a connecting word that labels a value only right after this field's label and value
    # on the same line ("Facture n°562044387 du 02 Juillet 2015", "Nr. 471102 vom ...")
    after: str | None = None
    wrap: bool = False  # a label that ends its line: the value may start the next one


def _rx(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


REGISTRATION_WEIGHT = 0.8  # a tax id labelled as a registration number (SIRET, KvK, St.-Nr.)
_NO = r"(?:no\.?|number|nummer|nr\.?|n[úu]m(?:ero|\.)?|#|n\.?\s?[°º])"
_TAX = (
    r"(?:vat|tax|mwst|ust|umsatzsteuer|mehrwertsteuer|gst|igst|cgst|sgst|sales\s*tax|tva|iva|btw)"
)
_NOT_TAX_BEFORE = (
    r"(?<!ohne\s)(?<!excl\.\s)(?<!excl\s)(?<!excluding\s)(?<!before\s)(?<!without\s)"
    r"(?<!w/o\s)(?<!incl\.\s)(?<!incl\s)(?<!inkl\.\s)(?<!inkl\s)(?<!including\s)"
    r"(?<!inclusive\sof\s)(?<!net\sof\s)(?<!hors\s)(?<!sin\s)(?<!con\s)(?<!zonder\s)"
    r"(?<!exkl\.\s)(?<!inclusief\s)(?<!exclusief\s)(?<!ex\.\s)(?<!inklusive\s)"
)
_NOT_TAX_AMOUNT = (  # nor a rate column ("USt. %", "MwSt-%")
    r"(?!\s*[-/]?\s*(?:%|id|no\b|number|nr|reg|#|/|ident|payer|code|exempt|rate|tin|point|"
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
    Label(
        "tax_id",
        _rx(r"\bsteuer[\s-]*nr\.?|\bsteuernummer"),
        REGISTRATION_WEIGHT,
        "taxid",
        party="context",
    ),
    Label(
        "supplier_iban",
        _rx(r"\biban(?:[\s-]*(?:nr|no|nummer)\.?)?(?!\w)"),
        1.0,
        "iban",
        party="context",
        wrap=True,
    ),
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
            r"\bverval\s*datum|\bnetto\s+bis\b|\bnet\s+(?:by|until)\b|\buiterste\s*betaal\s*datum|\bte\s*betalen\s*v[óo]{1,2}r|"
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
        REGISTRATION_WEIGHT,
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

# Labels of issue 11's layouts: German compounds ("Handelsrechnung Nr."), a date joined to
# the invoice number ("Nr. 471102 vom 05.03.2013", "n°562044387 du 02 Juillet 2015"),
# the totals blocks of e-invoice renderings and the ways of printing the amount payable.
LABELS += [
    Label(
        "invoice_number",
        _rx(
            r"\b[^\W\d_]*rechnung(?:skorrektur)?\)?[\s-]*(?:nr\.?|nummer|no\.?)(?!\w)|"
            r"\brechnung\s+de[sr]\s+[^\W\d_]+\s+nr\.?"
        ),
        1.0,
        "id",
    ),
    Label(
        "invoice_date",
        _rx(r"\b(?:vom|du|van|dated|of|del|de|le)\b"),
        0.95,
        "date",
        adjacent=True,
        after="invoice_number",
        wrap=True,
    ),
    Label(
        "total",
        _rx(
            r"\bbruttosumme|\brechnungssumme\s*brutto|\bgesamt\s*brutto|\bbrutto\s*(?:gesamt|summe)|"
            r"\brechnungsbeitrag|\bendsumme|\bmontant\s*d[uû]|\bsolde\s*d[uû]|\breste\s*[àa]\s*payer|"
            r"\bsomme\s*due|\btotal\s*toutes\s*taxes|\bte\s*voldoen|\btotaal\s*factuur|"
            r"\bbalance\s*(?:payable|owing)|\bamount\s*to\s*(?:be\s*)?paid"
        ),
        1.0,
        "amount",
    ),
    Label(
        "subtotal",
        _rx(
            r"\b(?:rechnungs|gesamt)?summe\s*(?:netto|ohne\s*(?:ust|mwst|steuer\w*)\.?|"
            r"(?:exkl|excl)\.?\s*(?:ust|mwst)\.?)|\bnetto\s*summe|\bwarenwert\s*netto|"
            r"\bmontant\s*hors\s*taxes?|\bnet\s*total|\btotaal\s*netto|\bnetto\s*bedrag"
        ),
        1.0,
        "amount",
    ),
    Label(
        "tax_amount",
        _rx(
            r"\bsteuerbetrag|\b(?:mwst|ust|umsatzsteuer)[\s.-]*betrag|"
            r"\bversicherungs?steuer(?!\s*(?:satz|nummer|nr|betrag\s*in\s*der))|"
            r"\bmontant\s*(?:de\s*(?:la\s*)?)?tva|\bbtw[\s-]*bedrag|\b(?:tax|vat)\s*amount"
        ),
        1.0,
        "amount",
    ),
    Label(
        "currency",
        _rx(
            r"\b[^\W\d_]*w(?:ä|a)hrung\b|\bbetr(?:ä|a)ge\s+in\b|\bamounts?\s+in\b|"
            r"\bmontants?\s+(?:exprim[ée]s\s+)?en\b|\bbedragen\s+in\b"
        ),
        1.0,
        "code",
    ),
    Label(
        "tax_id",
        _rx(r"\bust[\s.-]*ident(?:ifikations)?[\s.-]*(?:nr\.?|nummer)|\bumsatzsteuer[\s-]*id\w*"),
        1.0,
        "taxid",
        party="context",
    ),
    Label(  # as OCR reads "USt.-Id.-Nr." on a poor scan: "USE.-Id.-Nr.", "0St.-Id.-Nr."
        "tax_id",
        _rx(r"\b[uo0][s5][tec]\.?-?\s?[il1t][dao]\.?-?\s?nr\b\.?"),
        0.9,
        "taxid",
        party="context",
    ),
    Label(  # the buyer's own number, whatever marker is near: "Ihre USt.-IdentNr."
        "buyer_tax_id",
        _rx(
            r"\b(?:ihre|your|votre|uw)\s+(?:ust|vat|tva|btw)[\s.-]*"
            r"(?:id\w*|nr\.?|nummer|number|no\.?|n[°º])(?:[\s.-]*nr\.?)?"
        ),
        1.0,
        "taxid",
    ),
]

BUYER_MARKERS = _rx(
    r"购\s*买\s*方|购方|买方|\bbill(?:ed)?\s*to|\bbilling\s*address|\binvoice\s*to|\bsold\s*to|"
    r"\bcustomer\b|\bkunde\b|\brechnungsempf(?:ä|a|ae)nger|\bship(?:ping)?\s*(?:to|address)|\bguest\b|"
    r"\bfactur[ée]\s*[àa]\b|\badresse\s*de\s*facturation|\bclient\b|\bklant\b|\bfactuuradres|"
    r"\bcliente\b|\bfacturar\s*a\b|\bdestinatario\b|\bdestinataire\b|\bk(?:ä|a)ufer\b|"
    r"\bleistungsempf(?:ä|a)nger\b|\bacheteur\b|\bkoper\b"
)
SUPPLIER_MARKERS = _rx(
    r"销\s*售\s*方|销方|卖方|\bsold\s*by|\bseller\b|\bsupplier\b|\bvendor\b|\bservice\s*provider|"
    r"\blieferant\b|\bverk(?:ä|a)ufer\b|\bfournisseur\b|\bvendeur\b|\bleverancier\b|\bverkoper\b|"
    r"\bproveedor\b|\bemisor\b|\bvendedor\b"
)
# Third parties whose ids are neither the supplier's nor the buyer's: a tax representative,
# a different payee or consignee.
OTHER_MARKERS = _rx(
    r"\bsteuerbevollm(?:ä|a)chtigte\w*|\btax\s*representative|\brepr[ée]sentant\s*fiscal|"
    r"\bfiscaal\s*vertegenwoordiger|\brepresentante\s*fiscal|"
    r"\babweichende[rn]?\s*(?:zahlungsempf(?:ä|a)nger|warenempf(?:ä|a)nger)"
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
    r"\bcredit\s*(?:note|memo)\b|\bgutschrift\b(?!\s*\(?\s*selbst)|\brechnungskorrektur\b|"
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
    column: int | None = None  # amounts read in a header row's column: that row's line


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
    """Label occurrences per line, overlaps resolved in favour of the longer label.

    A connecting word (a label with `after`) counts only right after its field's label
    and value: on the same line, or starting the line after one that ends so."""
    out: list[list[Hit]] = []
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
        found = [h for h in found if h.label.after is None or _joined(lines, out, text, found, h)]
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


def _ends_with_value(text: str, label_end: int) -> bool:
    """True if text[label_end:] is one id-like value and nothing more."""
    parsed = _parse_id(text[label_end:])
    return parsed is not None and not text[label_end + parsed[2] :].strip(_SEPARATORS)


def _joined(
    lines: list[Line], done: list[list[Hit]], text: str, found: list[Hit], hit: Hit
) -> bool:
    """Whether the connecting word `hit` follows its field's label and value: "Nr. 471102
    vom", on its line or (the word starting a line) at the end of the line before."""
    field = hit.label.after
    if text[: hit.start].strip():
        return any(
            h.label.field == field
            and h.end <= hit.start
            and _ends_with_value(text[: hit.start], h.end)
            for h in found
        )
    if hit.line == 0 or lines[hit.line - 1].page != lines[hit.line].page:
        return False
    before = fold(lines[hit.line - 1].text)
    return any(
        h.label.field == field and _ends_with_value(before, h.end) for h in done[hit.line - 1]
    )


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
        out += [(i, m.start(), "other") for m in OTHER_MARKERS.finditer(text)]
    return sorted(out)


PARTY_LINES = 6  # how far below its marker a party's block may print an id


def _party(lines: list[Line], markers: list[tuple[int, int, str]], hit: Hit) -> str | None:
    """The party of the nearest marker before `hit` ("buyer", "supplier" or "other"): same
    line to its left, or up to PARTY_LINES lines up."""
    best = None
    for i, pos, party in markers:
        if (i, pos) > (hit.line, hit.start):
            break
        if i == hit.line and pos == hit.start:
            continue
        if lines[i].page == lines[hit.line].page and hit.line - i <= PARTY_LINES:
            best = party
    return best


# ---------------------------------------------------------------- values


_SEPARATORS = " \t:：;；.=-–|>"  # ";" and "；": how OCR reads some colons


def _value_spans(
    lines: list[Line], hits: list[list[Hit]], hit: Hit
) -> Iterator[tuple[int, int, int, bool]]:
    """Where the value of `hit` may be: (line, start, end, every) text spans, best first;
    `every`: one of the rows of a table's column, each a candidate of its own."""
    line = lines[hit.line]
    later = [h.start for h in hits[hit.line] if h.start >= hit.end]
    end = min(later, default=len(line.text))
    yield hit.line, hit.end, end, False
    if hit.label.wrap and not line.text[hit.end : end].strip(_SEPARATORS):
        after = hit.line + 1  # "IBAN" ending a line of running text, the number below
        if after < len(lines) and lines[after].page == line.page:
            first = lines[after].segments()[0]
            yield after, 0, lines[after].spans[first[-1]][1], False
    if hit.label.adjacent:
        return
    if hit.label.kind == "amount":
        money_labels = {(h.start, h.end) for h in hits[hit.line] if h.label.kind == "amount"}
        rest = list(line.text)
        for h in hits[hit.line]:
            rest[h.start : h.end] = " " * (h.end - h.start)
        if len(money_labels) >= 2 and not any(c.isdigit() for c in rest):
            for j, start, stop in _column_values(lines, hits, hit):
                yield j, start, stop, True
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
        yield j, start, min(stops, default=stop), False
        taken += 1
        bottom = below.y1
        if taken == 2:
            return


HEADER_ROWS = 6  # rows of values read under a header row of money labels
ITEM_ROW_LETTERS = 12  # a row with more letters than this (labels aside) is an item's


def _column_values(
    lines: list[Line], hits: list[list[Hit]], hit: Hit
) -> Iterator[tuple[int, int, int]]:
    """The amounts in the column of `hit`, a label of a header row ("Net  VAT  Total"
    above "24.99  5.00  29.99"), in the rows below it, top to bottom.

    The header's cells are each money label's words and every other word on its own; an
    amount belongs to the cell its box overlaps most (else the nearest). Rows whose text
    is mostly words (an item table's lines) are passed over; a row without amounts after
    one with them, a page break or a wide gap ends the table."""
    line = lines[hit.line]
    cells: list[tuple[float, float, bool]] = []  # x0, x1, whether it is `hit`'s cell
    labelled: set[int] = set()
    for h in hits[hit.line]:
        if h.label.kind == "amount":
            words = line.words_in(h.start, h.end)
            cells.append((min(w.x0 for w in words), max(w.x1 for w in words), h is hit))
            labelled.update(id(w) for w in words)
    cells += [(w.x0, w.x1, False) for w in line.words if id(w) not in labelled]

    def rank(cell: tuple[float, float, bool], x0: float, x1: float) -> tuple[float, float]:
        overlap = min(cell[1], x1) - max(cell[0], x0)
        return overlap, -abs((cell[0] + cell[1]) - (x0 + x1))

    height, bottom, rows = line.height, line.y1, 0
    for j in range(hit.line + 1, min(hit.line + 2 * HEADER_ROWS, len(lines))):
        below = lines[j]
        if below.page != line.page or below.y0 - bottom > 2.5 * height:
            return
        amounts = [a for a in find_amounts(below.text) if a.has_decimals]
        if not amounts:
            if rows:
                return
            continue
        bottom = below.y1
        text = list(below.text)
        for span in [(a.start, a.end) for a in amounts] + [(h.start, h.end) for h in hits[j]]:
            text[span[0] : span[1]] = " " * (span[1] - span[0])
        if sum(c.isalpha() for c in text) > ITEM_ROW_LETTERS:
            continue
        rows += 1
        for a in amounts:
            words = below.words_in(a.start, a.end)
            x0, x1 = min(w.x0 for w in words), max(w.x1 for w in words)
            if max(cells, key=lambda c: rank(c, x0, x1))[2]:
                yield j, a.start, a.end
        if rows == HEADER_ROWS:
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
    # OCR may put a speck before it ("ı.DEI2") and read a space between groups as "."
    m = re.match(
        r"[^A-Za-z0-9\s]{0,2}([A-Z]{2}[\dOoIlSBZ]{2}(?:[ .]{0,3}[A-Za-z0-9]){11,34})", stripped
    )
    if not m:
        return None
    raw = compact(m.group(1).replace(".", "").replace(" ", ""))
    # check digits are digits: a letter there is a misread with only one reading
    value = raw[:2] + raw[2:4].translate(_CHECK_DIGIT_MISREADS) + raw[4:]
    if iban_fits_registry(value):  # its country's length: nothing ran into it
        return value, offset, offset + m.end()
    for n in range(len(value), 14, -1):  # text after the IBAN may have run into it
        if iban_is_valid(value[:n]):
            return value[:n], offset, offset + m.end()
    return value, offset, offset + m.end()


def _is_label(text: str) -> bool:
    """True if `text` starts with a label or party marker rather than a value."""
    return any(rx.match(text) for rx in (BUYER_MARKERS, SUPPLIER_MARKERS, TITLE_RX)) or any(
        lb.rx.match(text) for lb in LABELS if lb.after is None
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
    """A currency printed as its ISO code; a code OCR misread stays as read (`_read` puts
    it right where one look-alike letter gives a code, doubtfully)."""
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
# An OCR'd number of digits behind one letter that OCR also makes of a digit: "A71113" may
# be 471113 (A/4, S/5, B/8, Z/2, G/6, T/7). Left as read, but doubtful.
_LOOKALIKE_PREFIX_RX = re.compile(r"[ASBZGT]\d{4,}")
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


def _read(lines: list[Line], hits: list[list[Hit]], hit: Hit, dayfirst: bool) -> list[Found]:
    """The first span near `hit` that parses as the label's kind of value (every row, for a
    label heading a column of values).

    An OCR'd id is put right where its shape allows (ocr.normalize.repair_tax_id,
    repair_invoice_number); a repair no check character proves leaves it doubtful."""
    kind = hit.label.kind
    out: list[Found] = []
    for j, start, end, every in _value_spans(lines, hits, hit):
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
        if kind == "code" and currency_code(value) is None:
            value = repair_currency_code(value) if words and words[0].run is not None else None
            if value is None:  # a 3-letter word that is no currency
                continue
            conf = min(conf, REPAIRED_CONFIDENCE)
        if kind == "id" and _LOOKALIKE_PREFIX_RX.fullmatch(value) and words[0].run is not None:
            conf = min(conf, REPAIRED_CONFIDENCE)
        column = hit.line if every else None
        out.append(Found(value, conf, hit.label.weight, j, start + a, currency, column=column))
        if not every:
            break
    return out


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


def _tax_groups(taxes: list[Found]) -> list[list[Found]]:
    """Tax amounts that may be one tax per rate, to be added up: one per line of all the
    lines with one, then each run of two or more adjacent lines ("Umsatzsteuer 7 %" over
    "Umsatzsteuer 19 %")."""
    by_line = {f.line: f for f in taxes}
    if len(by_line) < 2:
        return []
    groups = [list(by_line.values())]
    run: list[Found] = []
    for line in sorted(by_line):
        if run and line != run[-1].line + 1:
            if len(run) >= 2 and len(run) < len(by_line):
                groups.append(run)
            run = []
        run.append(by_line[line])
    if len(run) >= 2 and len(run) < len(by_line):
        groups.append(run)
    return groups


BLOCK_LINES = 5  # how far above the total an unlabelled net of its block may be printed


def _block_net(lines: list[Line], total: Found, tax: Found) -> Found | None:
    """An unlabelled amount of the totals block that is total - tax ("Gesamtbeitrag
    50,00" over "Versicherungsteuer 9,50" over "Rechnungsbeitrag 59,50"): the last amount
    of one of the BLOCK_LINES lines above the total, on its page."""
    want = total.value - tax.value
    for j in range(total.line - 1, max(total.line - BLOCK_LINES, 0) - 1, -1):
        line = lines[j]
        if line.page != lines[total.line].page:
            break
        amounts = [a for a in find_amounts(line.text) if a.has_decimals]
        if amounts and amounts[-1].value == want and (j, amounts[-1].start) != (tax.line, tax.pos):
            words = line.words_in(amounts[-1].start, amounts[-1].end)
            return Found(want, _conf(words, 1.0), 1.0, j, amounts[-1].start)
    return None


def _choose_amounts(cands: dict[str, list[Found]], lines: Sequence[Line] = ()) -> dict[str, Found]:
    """Total, net and tax: the best-labelled combination where net + tax = total; else,
    for a labelled total and tax, an unlabelled net of the totals block that makes them
    add up (`_block_net`)."""

    def order(items: list[Found]) -> list[Found]:
        return sorted(items, key=lambda f: (-f.weight, -f.line, -f.pos))

    totals, nets, taxes = (order(cands.get(k, [])) for k in ("total", "subtotal", "tax_amount"))
    # a row of a column above another row of it: one rate's row over the sum row, never
    # the invoice's total however its amounts add up
    sums = [
        t
        for t in totals
        if not any(f.column == t.column and f.line > t.line for f in totals if t.column is not None)
    ]
    for t in sums:
        for s in nets:
            for x in taxes:
                if s.value + x.value == t.value and (s.line, s.pos) != (x.line, x.pos):
                    return _corroborated(t, s, x)
        for group in _tax_groups(taxes):
            tax_sum = sum((f.value for f in group), Decimal(0))
            for s in nets:
                if s.value + tax_sum == t.value:
                    first = min(group, key=lambda f: f.conf)
                    summed = Found(
                        tax_sum, first.conf, first.weight, first.line, first.pos, None, len(group)
                    )
                    return _corroborated(t, s, summed)
    if lines and not nets:
        for t in sums:
            for x in taxes:
                net = _block_net(list(lines), t, x)
                if net is not None:
                    return _corroborated(t, net, x)
    for t in (t for t in sums if t.value < 0):  # a minus sign OCR lost ("7,67" of "-7,67")
        for s in nets:
            for x in taxes:
                if (s.line, s.pos) != (x.line, x.pos) and -abs(s.value) - abs(x.value) == t.value:
                    return {
                        "total": t,
                        "subtotal": replace(
                            s, value=-abs(s.value), conf=min(s.conf, REPAIRED_CONFIDENCE)
                        ),
                        "tax_amount": replace(
                            x, value=-abs(x.value), conf=min(x.conf, REPAIRED_CONFIDENCE)
                        ),
                    }
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
        party = _party(lines, markers, Hit(LABELS[0], i, m.start(), m.end())) if m else None
        if not m or party in ("buyer", "other"):
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


def _row_parts(line: Line, total: Found) -> dict[str, Found]:
    """Net and tax printed on the total's row before it ("Total facture 24.99 5.00 29.99"):
    the two amounts right before the total, where they add up to it."""
    amounts = [a for a in find_amounts(line.text) if a.has_decimals]
    at = next((k for k, a in enumerate(amounts) if a.start <= total.pos < a.end), None)
    if at is None or at < 2 or amounts[at].value != total.value:
        return {}
    net, tax = amounts[at - 2], amounts[at - 1]
    if net.value + tax.value != total.value:
        return {}
    out = {}
    for name, a in (("subtotal", net), ("tax_amount", tax)):
        conf = _conf(line.words_in(a.start, a.end), total.weight)
        out[name] = Found(a.value, conf, total.weight, total.line, a.start, a.currency)
    return out


TITLE_DATE_WEIGHT = 0.8  # a date beside the document's title, without a label of its own
TITLE_LINES = 25


def _title_date(lines: list[Line], dayfirst: bool) -> Found | None:
    """The date printed after the document's title on its line ("Beitragsrechnung
    24. Januar 2014"): the first title among the first TITLE_LINES lines of page one."""
    for i, line in enumerate(lines[:TITLE_LINES]):
        if line.page != lines[0].page:
            break
        m = TITLE_RX.search(fold(line.text))
        if not m:
            continue
        dates = find_dates(line.text[m.end() :], dayfirst=dayfirst)
        if not dates:
            return None
        start, end = m.end() + dates[0].start, m.end() + dates[0].end
        conf = _conf(line.words_in(start, end), TITLE_DATE_WEIGHT)
        return Found(dates[0].value, conf, TITLE_DATE_WEIGHT, i, start)
    return None


def _stands_in_on_a_scan(lines: list[Line], found: Found) -> bool:
    """Whether a tax id was read from a registration-number label (SIRET, KvK,
    Steuernummer: REGISTRATION_WEIGHT) on an OCR'd line. Such a number stands in for the VAT
    number only where none is printed, and a scan cannot show that none is: OCR may have
    lost the VAT number's line."""
    on_a_scan = any(w.run is not None for w in lines[found.line].words)
    return found.weight <= REGISTRATION_WEIGHT and on_a_scan


def _add_candidate(
    cands: dict[str, list[Found]],
    lines: list[Line],
    markers: list[tuple[int, int, str]],
    hit: Hit,
    found: Found,
) -> None:
    """File a value read at `hit` under its field (a party's, by the markers near it); a
    total with its net and tax printed before it on its row files those too."""
    name = hit.label.field
    if hit.label.party == "context":
        party = _party(lines, markers, hit)
        if party == "other":
            return
        if name == "tax_id":
            name = "buyer_tax_id" if party == "buyer" else "supplier_tax_id"
        elif name == "supplier_iban":
            if party == "buyer":
                return
        elif name == "name":
            if party is None:
                return
            name = f"{party}_name"
    cands.setdefault(name, []).append(found)
    if name == "total":
        for part, value in _row_parts(lines[found.line], found).items():
            cands.setdefault(part, []).append(value)


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
            for found in _read(lines, hits, hit, dayfirst):
                _add_candidate(cands, lines, markers, hit, found)

    values: dict[str, Found] = {}
    for name, items in cands.items():
        if name not in ("total", "subtotal", "tax_amount"):
            values[name] = _best(items)
    values.update(_choose_amounts(cands, lines))
    if "invoice_date" not in values:
        title_date = _title_date(lines, dayfirst)
        if title_date is not None:
            values["invoice_date"] = title_date
    if "due_date" not in values and "invoice_date" in values:
        due = _due_from_terms(lines, values["invoice_date"])
        if due is not None:
            values["due_date"] = due
    if "supplier_name" not in values:
        buyer = values["buyer_name"].value if "buyer_name" in values else None
        fallback = _supplier_name_fallback(lines, markers, buyer)
        if fallback:
            values["supplier_name"] = fallback
    for party in ("supplier_tax_id", "buyer_tax_id"):
        if party in values and _stands_in_on_a_scan(lines, values[party]):
            values[party] = replace(
                values[party], conf=min(values[party].conf, REPAIRED_CONFIDENCE)
            )
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
