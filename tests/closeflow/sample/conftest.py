"""A small sample company shared by the tests of closeflow.sample (generated once)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from closeflow.sample import GenerationSummary, generate

START = dt.date(2026, 1, 5)  # a Monday
DAYS = 12
SEED = 7


@dataclass(frozen=True)
class Sample:
    """The generated HOME, its summary and its ground truth, read back."""

    home: Path
    start: dt.date
    days: int
    seed: int
    summary: GenerationSummary
    documents: list[dict]
    bank_lines: list[dict]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    home = tmp_path_factory.mktemp("sample") / "home"
    summary = generate(home, start=START, seed=SEED, days=DAYS)
    return Sample(
        home=home,
        start=START,
        days=DAYS,
        seed=SEED,
        summary=summary,
        documents=read_jsonl(home / "truth" / "documents.jsonl"),
        bank_lines=read_jsonl(home / "truth" / "bank_lines.jsonl"),
    )
