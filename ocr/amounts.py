"""Choosing an invoice's total, net and tax from the amounts read near their labels.

The combination that adds up wins (net + tax = total), best-labelled first; tax printed
per rate on adjacent rows is added up; an unlabelled net of the totals block, or net and
tax printed on the total's own row ("Total 1 278.61 40.39 319.00"), complete a labelled
total. Amounts that add up are corroborated: each is surer than its own reading says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from ocr.layout import Line
from ocr.normalize import find_amounts
from ocr.values import REPAIRED_CONFIDENCE, Found, conf_of

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
            return Found(want, conf_of(words, 1.0), 1.0, j, amounts[-1].start)
    return None


def choose_amounts(cands: dict[str, list[Found]], lines: Sequence[Line] = ()) -> dict[str, Found]:
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


def row_parts(line: Line, total: Found) -> dict[str, Found]:
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
        conf = conf_of(line.words_in(a.start, a.end), total.weight)
        out[name] = Found(a.value, conf, total.weight, total.line, a.start, a.currency)
    return out
