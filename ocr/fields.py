"""Invoice fields from a laid-out document: find a label, read the value beside or below it.

Nothing here knows a template. A field is a list of labels (English, German, French,
Dutch, Spanish and Chinese: ocr/data/labels.yaml, loaded by ocr.labels), each with a
weight: how sure a value found there is that field (a SIRET or KvK number is a supplier's
tax id only where no VAT number is). A value
is read from the rest of the label's line up to the next label, else from the cell right
under the label. Buyer and supplier share labels (VAT ID, 名称, 纳税人识别号); which party
a label belongs to comes from the nearest party marker before it ("Bill to", 购买方, 销售方).
Net, tax and total are chosen together (ocr.amounts): the combination that adds up wins. Without a
printed due date, payment terms ("Net 30", "Zahlbar innerhalb von 14 Tagen", "à 30 jours
fin de mois", "binnen 30 dagen", "a 30 días") give it, less sure than a printed one.
Each kind of value has its parser in ocr.values, which also puts OCR's look-alikes right
where an id's shape allows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from ocr.amounts import choose_amounts, row_parts
from ocr.chinese import invoice_kind, parse_capitals
from ocr.labels import (
    BUYER_MARKERS,
    CREDIT_NOTE_RX,
    DATE_QUALIFIERS,
    LABELS,
    LEGAL_FORM_RX,
    OTHER_MARKERS,
    REGISTRATION_WEIGHT,
    SUPPLIER_MARKERS,
    TITLE_RX,
    Label,
)
from ocr.layout import Line, is_cjk
from ocr.normalize import (
    CURRENCY_RE,
    WORDLIKE_CODES,
    TermsMatch,
    currency_code,
    currency_of,
    due_from_terms,
    find_amounts,
    find_dates,
    find_payment_terms,
    fold,
    iban_is_proven,
    infer_dayfirst,
    repair_currency_code,
)
from ocr.values import (
    DATE_UNITS_RX,
    LOOKALIKE_PREFIX_RX,
    PROVEN_CONFIDENCE,
    REPAIRED_CONFIDENCE,
    SEPARATORS,
    Found,
    conf_of,
    euro_misreads,
    is_label,
    parse_amount,
    parse_cn_number,
    parse_code,
    parse_digits,
    parse_iban,
    parse_id,
    parse_name,
    parse_ref,
    parse_taxid,
    repair,
    yuan_misreads,
)


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
    parsed = parse_id(text[label_end:])
    return parsed is not None and not text[label_end + parsed[2] :].strip(SEPARATORS)


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


def _value_spans(
    lines: list[Line], hits: list[list[Hit]], hit: Hit
) -> Iterator[tuple[int, int, int, bool]]:
    """Where the value of `hit` may be: (line, start, end, every) text spans, best first;
    `every`: one of the rows of a table's column, each a candidate of its own."""
    line = lines[hit.line]
    later = [h.start for h in hits[hit.line] if h.start >= hit.end]
    end = min(later, default=len(line.text))
    yield hit.line, hit.end, end, False
    if hit.label.wrap and not line.text[hit.end : end].strip(SEPARATORS):
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
                text = yuan_misreads(text)
            elif "E" in text and any(w.run is not None for w in line.words):
                text, euro_at = euro_misreads(text)
            parsed = parse_amount(text, hit.label)
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
                "id": parse_id,
                "cn_number": parse_cn_number,
                "ref": parse_ref,
                "taxid": parse_taxid,
                "iban": parse_iban,
                "text": parse_name,
                "code": parse_code,
                "digits": parse_digits,
            }[kind]
            parsed = parser(text)
            if parsed is None:
                continue
            value, a, b = parsed
            if kind == "text" and not any(is_cjk(c) for c in value):
                value = raw[a:b]  # names keep their own characters
        words = line.words_in(start + a, start + b) or line.words_in(start, end)
        if kind == "date":  # a misread 日 after the digits changes nothing of the date
            words = [w for w in words if not DATE_UNITS_RX.fullmatch(w.text)] or words
        conf = conf_of(words, hit.label.weight)
        if any(a <= i < b for i in euro_at):  # a misread "€": the digits may be misread too
            conf = min(conf, REPAIRED_CONFIDENCE)
        fix = repair(kind, value, any(w.run is not None for w in words))
        if fix is not None and fix.repaired:
            value = fix.value
            if not fix.proven:
                conf = min(conf, REPAIRED_CONFIDENCE)
        if kind == "iban" and iban_is_proven(value):
            conf = max(conf, PROVEN_CONFIDENCE)
        if kind == "code" and currency_code(value) is None:
            value = repair_currency_code(value) if words and words[0].run is not None else None
            if value is None:  # a 3-letter word that is no currency
                continue
            conf = min(conf, REPAIRED_CONFIDENCE)
        if kind == "id" and LOOKALIKE_PREFIX_RX.fullmatch(value) and words[0].run is not None:
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
                conf = conf_of(line.words_in(m.start(), m.end()), 0.97)
                return Found(code, conf, line=total.line)
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
            return Found(name, conf_of(words, 0.8), 0.8, i)
    for i, line in enumerate(first_page[:5]):
        seg = line.segments()[0]
        name = line.segment_text(seg).strip(" ,;:-|")
        if (
            sum(c.isalpha() or is_cjk(c) for c in name) >= 3
            and name != buyer
            and not is_label(fold(name))
        ):
            return Found(name, conf_of([line.words[k] for k in seg], 0.65), 0.65, i)
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
            return Found(value, conf_of(words, 1.0), 1.0, i, m.start(1))
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
    conf = round(min(conf_of(words, 1.0), invoice_date.conf) * TERMS_WEIGHT, 3)
    due = due_from_terms(invoice_date.value, terms)
    return Found(due, conf, TERMS_WEIGHT, i, terms.start)


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
        conf = conf_of(line.words_in(start, end), TITLE_DATE_WEIGHT)
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
        for part, value in row_parts(lines[found.line], found).items():
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
    values.update(choose_amounts(cands, lines))
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
