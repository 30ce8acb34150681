"""The registry of statement formats: detect a file's format from its content, then parse.

Each format is a `StatementFormat`: a name (written to `bank_statements.source_format`),
a cheap `sniff` of the file's first bytes, and a `parse` that turns the whole file into
statements. Detection asks the formats in registration order and the first that
recognises the content wins, so specific formats (XML, tagged text, BAI2's records) come
before the catch-all CSV. A new format is one module and one `register` call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from closeflow.bank import bai2, camt05x, csv_export, mt940, ofx
from closeflow.bank.statement import ParsedStatement, SourceFile, StatementError

_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class StatementFormat:
    name: str
    description: str
    sniff: Callable[[bytes], bool]
    parse: Callable[[SourceFile], list[ParsedStatement]]


FORMATS: dict[str, StatementFormat] = {}


def register(fmt: StatementFormat, *, before: str | None = None) -> None:
    """Add `fmt` to the registry (at the end, or just before the format named `before`)."""
    items = [(k, v) for k, v in FORMATS.items() if k != fmt.name]
    at = next((i for i, (k, _) in enumerate(items) if k == before), len(items))
    items.insert(at, (fmt.name, fmt))
    FORMATS.clear()
    FORMATS.update(items)


register(
    StatementFormat(camt05x.NAME, "ISO 20022 camt.052/053/054 XML", camt05x.sniff, camt05x.parse)
)
register(StatementFormat(mt940.NAME, "SWIFT MT940/MT942", mt940.sniff, mt940.parse))
register(StatementFormat(ofx.NAME, "OFX 1.x/2.x and QFX", ofx.sniff, ofx.parse))
register(StatementFormat(bai2.NAME, "BAI2", bai2.sniff, bai2.parse))
register(StatementFormat(csv_export.NAME, "bank CSV export", csv_export.sniff, csv_export.parse))


def detect_format(data: bytes) -> str | None:
    """The name of the first registered format that recognises `data`, or None."""
    head = data[:_SNIFF_BYTES]
    return next((name for name, fmt in FORMATS.items() if fmt.sniff(head)), None)


def parse_statements(
    path: Path | str,
    *,
    account_id: str | None = None,
    currency: str | None = None,
    source_format: str | None = None,
    mapping: Path | str | None = None,
    mapping_dirs: list[Path] | None = None,
) -> list[ParsedStatement]:
    """Every statement in the file at `path`, in file order.

    `account_id` and `currency` are used only where the file does not say them (a CSV
    without account or currency column); `source_format` skips detection; `mapping` names
    the CSV mapping file to read the file with (closeflow.bank.mappings), `mapping_dirs`
    where mappings are looked for (default: `$CLOSEFLOW_HOME/company/bank_mappings`, then
    closeflow's own). Raises `StatementError` (file, line, what is wrong) for anything
    unusable.
    """
    src = SourceFile.read(path, account_id, currency, mapping, mapping_dirs)
    if not src.data.strip():
        raise src.error(None, "the file is empty")
    if mapping is not None:
        source_format = source_format or csv_export.NAME
    name = source_format or detect_format(src.data)
    if name is None:
        known = ", ".join(f.description for f in FORMATS.values())
        raise src.error(1, f"not a bank statement format closeflow can read (it reads: {known})")
    if name not in FORMATS:
        raise ValueError(f"unknown statement format {name!r}; known: {sorted(FORMATS)}")
    # the parser gets the only reference to the file's bytes, so that one that is done
    # with them before it is done with the file (the CSV reader) can let them go
    handed = [src]
    del src
    return FORMATS[name].parse(handed.pop())


def parse_statement(
    path: Path | str,
    *,
    account_id: str | None = None,
    currency: str | None = None,
    source_format: str | None = None,
    mapping: Path | str | None = None,
    mapping_dirs: list[Path] | None = None,
) -> ParsedStatement:
    """The one statement in the file at `path`; a file holding several is an error."""
    found = parse_statements(
        path,
        account_id=account_id,
        currency=currency,
        source_format=source_format,
        mapping=mapping,
        mapping_dirs=mapping_dirs,
    )
    if len(found) != 1:
        raise StatementError(
            path, None, f"the file holds {len(found)} statements; read it with parse_statements"
        )
    return found[0]
