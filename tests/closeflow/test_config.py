"""Configuration files fail on load with the file, the line and the fix."""

import textwrap

import pytest

from closeflow.config import ConfigError, FxRates
from closeflow.posting import load_rules

RULES = textwrap.dedent("""\
    version: 1
    ap_account: "2000"
    tax_codes:
      DE19: {rate: "0.19", account: "1400"}
    rules:
      - id: hosting
        priority: 10
        when: {supplier_id: "SUP-001"}
        then: {debit_account: "6200"}
      - id: rent
        when: {supplier_name_regex: "Immobilien"}
        then: {debit_acount: "6100"}
""")


def test_rules_typo_names_file_line_and_fix(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(RULES)
    with pytest.raises(ConfigError) as exc:
        load_rules(path)
    msg = str(exc.value)
    assert f"{path}:12" in msg and "unknown field 'rules.1.then.debit_acount'" in msg
    assert "did you mean 'debit_account'?" in msg


def test_rules_unknown_account_is_rejected(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(RULES.replace("debit_acount", "debit_account"))
    with pytest.raises(ConfigError) as exc:
        load_rules(path, accounts={"2000", "1400", "6200", "8999"})
    assert f"{path}:12" in str(exc.value) and "'6100' is not in the chart" in str(exc.value)


def test_broken_yaml_names_the_line(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text("rules:\n  - id: a\n   when: [\n")
    with pytest.raises(ConfigError) as exc:
        load_rules(path)
    assert str(exc.value).startswith(f"{path}:3")


def test_rules_version_is_the_content_hash(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(RULES.replace("debit_acount", "debit_account"))
    first = load_rules(path).content_hash
    path.write_text(RULES.replace("debit_acount", "debit_account").replace("10", "20"))
    assert first != load_rules(path).content_hash and len(first) == 12


def test_fx_rates_bad_row_names_line(tmp_path):
    path = tmp_path / "fx.csv"
    path.write_text("date,currency,rate\n2026-01-01,CNY,0.128\n2026-01-02,CNY,abc\n")
    with pytest.raises(ConfigError) as exc:
        FxRates.load(path)
    assert f"{path}:3" in str(exc.value)


def test_ocr_review_threshold_is_validated_with_its_line(tmp_path):
    from closeflow.config import Company, load_model

    path = tmp_path / "company.yml"
    path.write_text('name: "Demo"\nocr_min_confidence: 0.8\n')
    assert load_model(path, Company).ocr_min_confidence == 0.8
    path.write_text('name: "Demo"\nfunctional_currency: "EUR"\nocr_min_confidence: 1.5\n')
    with pytest.raises(ConfigError) as exc:
        load_model(path, Company)
    assert str(exc.value).startswith(f"{path}:3: ocr_min_confidence: Input should be less")
