"""A deterministic sample company for closeflow: configuration, inbox, bank, ground truth.

    from closeflow.sample import generate
    summary = generate(Path("var"), start=date(2026, 1, 1), months=1, seed=7)

The formats written are the contract in docs/sample_company.md.
"""

from closeflow.sample.generator import GenerationSummary, generate
from closeflow.sample.progress import rich_progress

__all__ = ["GenerationSummary", "generate", "rich_progress"]
