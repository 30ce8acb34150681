"""Fixtures for the ocr tests: a few generated days of the sample company (closeflow.sample)
and invoices rendered here (tests/ocr/documents.py), made once per session."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from closeflow.config import CompanyConfig, Supplier
from closeflow.sample import generate
from tests.ocr.documents import render_chinese, render_english, scan

SAMPLE_START = dt.date(2026, 1, 5)  # a Monday
SAMPLE_DAYS = 5
SAMPLE_SEED = 7


@dataclass(frozen=True)
class Sample:
    """The generated HOME with its suppliers and ground truth."""

    home: Path
    suppliers: list[Supplier]
    documents: list[dict]

    def of_kind(self, *kinds: str) -> list[dict]:
        return [d for d in self.documents if d["kind"] in kinds]


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    home = tmp_path_factory.mktemp("ocr_sample") / "home"
    generate(home, start=SAMPLE_START, seed=SAMPLE_SEED, days=SAMPLE_DAYS)
    truth = home / "truth" / "documents.jsonl"
    documents = [json.loads(line) for line in truth.read_text(encoding="utf-8").splitlines()]
    return Sample(home, CompanyConfig(home / "company").suppliers, documents)


@pytest.fixture(scope="session")
def english_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_english(tmp_path_factory.mktemp("en") / "invoice.pdf")


@pytest.fixture(scope="session")
def english_scan(english_pdf: Path) -> Path:
    return scan(english_pdf, english_pdf.with_name("scan.png"))


@pytest.fixture(scope="session")
def chinese_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_chinese(tmp_path_factory.mktemp("cn") / "fapiao.pdf")


@pytest.fixture(scope="session")
def chinese_scan(chinese_pdf: Path) -> Path:
    return scan(chinese_pdf, chinese_pdf.with_name("fapiao.jpg"), angle=-0.6, seed=2)
