"""`generate()`: write a complete, deterministic sample company into HOME.

The one entry point of the package: configuration (HOME/company), the documents that
arrive (HOME/inbox), the bank statements (HOME/bank_inbox) and the ground truth
(HOME/truth), all from one seed, so two runs with the same arguments give byte-identical
files with identical mtimes.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from closeflow.sample.business_days import DateRange, add_months
from closeflow.sample.company import build_company, write_company_folder
from closeflow.sample.documents import build_documents, write_inbox
from closeflow.sample.fx import cny_rates
from closeflow.sample.inbox import plan_inbox
from closeflow.sample.payments import plan_bank_lines
from closeflow.sample.statements import build_statements, write_bank_inbox
from closeflow.sample.suppliers import build_suppliers
from closeflow.sample.truth import write_truth

OUTPUT_FOLDERS = ("company", "inbox", "bank_inbox", "truth")
ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class GenerationSummary:
    """What `generate()` wrote: counts per kind."""

    home: Path
    seed: int
    start: dt.date
    end: dt.date  # exclusive
    suppliers: int
    documents: dict[str, int]  # inbox files by kind
    expected_status: dict[str, int]  # inbox files by expected status
    invoices: int  # distinct invoice documents (credit notes included, duplicates not)
    credit_notes: int
    statements: dict[str, int]  # bank statement files by format
    bank_lines: dict[str, int]  # bank lines by kind

    @property
    def files(self) -> int:
        return sum(self.documents.values())

    def as_dict(self) -> dict:
        """JSON-friendly form (for `--json` output)."""
        return {
            "home": str(self.home),
            "seed": self.seed,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "suppliers": self.suppliers,
            "documents": self.documents,
            "expected_status": self.expected_status,
            "invoices": self.invoices,
            "credit_notes": self.credit_notes,
            "statements": self.statements,
            "bank_lines": self.bank_lines,
        }


def _window(start: dt.date, months: int, days: int | None) -> DateRange:
    if days is not None:
        if days < 1:
            raise ValueError(f"days must be at least 1, got {days}")
        return DateRange(start, start + dt.timedelta(days=days))
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    return DateRange(start, add_months(start, months))


def _prepare(home: Path, overwrite: bool) -> None:
    """Refuse to mix with an earlier sample unless `overwrite`, which empties our folders."""
    for name in OUTPUT_FOLDERS:
        folder = home / name
        if folder.exists() and any(folder.iterdir()):
            if not overwrite:
                raise FileExistsError(
                    f"{folder} is not empty: generate into a fresh HOME or pass overwrite=True"
                )
            shutil.rmtree(folder)
    home.mkdir(parents=True, exist_ok=True)


def _counts(values: list[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))


def generate(
    home: Path,
    start: dt.date = dt.date(2026, 1, 1),
    months: int = 3,
    seed: int = 7,
    *,
    days: int | None = None,
    progress: ProgressCallback | None = None,
    overwrite: bool = False,
) -> GenerationSummary:
    """Write the sample company for `months` months from `start` (or only `days` days).

    `progress(stage, done, total)` is called as work advances (stages: company,
    documents, bank, truth); nothing is printed. Raises FileExistsError if HOME already
    holds a sample and `overwrite` is false.
    """
    home = Path(home)
    window = _window(start, months, days)
    _prepare(home, overwrite)
    report = progress or (lambda stage, done, total: None)

    report("company", 0, 1)
    company = build_company(seed)
    suppliers = build_suppliers(seed)
    rates = cny_rates(seed, window.start, window.end)
    write_company_folder(home / "company", company, suppliers, rates, f"{start:%Y-%m}")
    report("company", 1, 1)

    arrivals = plan_inbox(seed, window, suppliers)
    docs = build_documents(seed, arrivals, company, report)
    write_inbox(home / "inbox", docs)

    report("bank", 0, 1)
    lines = plan_bank_lines(seed, window, company, docs, rates)
    statements = build_statements(window, company, lines)
    write_bank_inbox(home, statements)
    report("bank", 1, 1)

    report("truth", 0, 1)
    write_truth(home / "truth", docs, statements, rates)
    report("truth", 1, 1)

    originals = [d for d in docs if d.expected_status == "extracted" and d.invoice]
    return GenerationSummary(
        home=home,
        seed=seed,
        start=window.start,
        end=window.end,
        suppliers=len(suppliers),
        documents=_counts([d.kind for d in docs]),
        expected_status=_counts([d.expected_status for d in docs]),
        invoices=len(originals),
        credit_notes=sum(d.invoice.document_type == "credit_note" for d in originals),
        statements=_counts([s.format for s in statements]),
        bank_lines=_counts([line.kind for s in statements for line, _ in s.entries]),
    )
