"""Account identifiers and server paths never reach a report or a mail in clear."""

import pytest

from closeflow.masking import (
    file_name,
    mask_account,
    mask_accounts_in_text,
    public_path,
    public_text,
)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("DE89 3704 0044 0532 0130 00", "****3000"),
        ("DE89370400440532013000", "****3000"),
        ("GB29 NWBK 6016 1331 9268 19", "****6819"),
        ("6222021234567890123", "****0123"),  # a Chinese account number
        ("0532013000", "****3000"),
        ("12345", "****2345"),
        ("1234", "1234"),
        ("ab", "ab"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_account_keeps_the_last_four_behind_a_fixed_prefix(value, masked):
    assert mask_account(value) == masked


def test_the_mask_does_not_tell_the_length():
    assert len(mask_account("DE89370400440532013000")) == len(mask_account("123456")) == 8


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("IBAN DE89 3704 0044 0532 0130 00", "IBAN ****3000"),
        ("IBAN: DE89370400440532013000, danke", "IBAN: ****3000, danke"),
        ("from GB29NWBK60161331926819.", "from ****6819."),
        # a grouped IBAN followed by an invoice number: the groups end where the IBAN does
        ("DE89 3704 0044 0532 0130 00 INV 4711", "****3000 INV 4711"),
        # statement lines are joined without a space: the IBAN runs into the next word
        ("DE89370400440532013000Miete Januar", "****3000Miete Januar"),
        ("IBANDE89370400440532013000", "IBAN****3000"),
        # IBAN-shaped but a wrong check digit: still masked (shape is enough)
        ("to DE00 1234 5678 9012 3456 78", "to ****5678"),
        # a domestic account number, labelled as one
        ("Konto 0532013000", "Konto ****3000"),
        ("Kto.-Nr. 0532013000.", "Kto.-Nr. ****3000."),
        ("Kontonummer: 0532013000 BLZ 37040044", "Kontonummer: ****3000 BLZ 37040044"),
        ("account no. 12345678", "account no. ****5678"),
        ("Account number 12345678", "Account number ****5678"),
        ("A/C 12345678", "A/C ****5678"),
        ("账号 6222021234567890123", "账号 ****0123"),
        ("收款账号：6222 0212 3456 7890 123 货款", "收款账号：****0123 货款"),
    ],
)
def test_account_identifiers_in_free_text_are_masked(text, masked):
    assert mask_accounts_in_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "RE-2026-00012",
        "INV 4711",
        "2026-01-05",
        "1.234,56",
        "1,234.56 EUR",
        "Rechnung RE-2026-00012 vom 2026-01-05 über 1.234,56 EUR",
        "RF18539007547034",  # an RF creditor reference is a payment reference, not an account
        "RF18 5390 0754 7034",
        "货款 12345678",  # a Chinese invoice number
        "发票号码 00001234",
        "TK20260100012",
        "Kundennr. 12345678 Vertrag 87654321",  # long numbers nobody calls an account
        "Konto 1200 Bank",  # a ledger account is not a bank account
        "Account 2026-01-05",
        "Gehalt 01/2026 Sophie Krüger",
        "Kontoauszug 123456",
        "statement ab12cd34ef567890:3",  # a lower-case hex id
        "91310000MA1FL8XX3K",  # a Chinese tax id (统一社会信用代码)
        "DE123456789",  # a VAT id
        "",
    ],
)
def test_references_dates_and_amounts_stay_readable(text):
    assert mask_accounts_in_text(text) == text


def test_a_labelled_number_keeps_the_amount_after_it():
    assert mask_accounts_in_text("Konto 0532013000 1.234,56") == "Konto ****3000 1.234,56"


def test_none_stays_none():
    assert mask_accounts_in_text(None) is None
    assert public_path(None) is None
    assert public_text(None) is None


def test_known_accounts_are_masked_wherever_they_appear():
    cny = "6222021234567890123"
    assert (
        mask_accounts_in_text(f"cny_{cny}_2026-01-05.csv", [cny]) == "cny_****0123_2026-01-05.csv"
    )
    assert mask_accounts_in_text("paid 6222 0212 3456 7890 123", [cny]) == "paid ****0123"
    # without being told, an unlabelled number stays (it may be a reference)
    assert mask_accounts_in_text(f"cny_{cny}_2026-01-05.csv") == f"cny_{cny}_2026-01-05.csv"
    # short known values are not masked in text: they would hit amounts and codes
    assert mask_accounts_in_text("total 1200", ["1200"]) == "total 1200"


@pytest.mark.parametrize(
    ("text", "public"),
    [
        (
            "same file content as /srv/closeflow/var/inbox/2026/a.pdf",
            "same file content as a.pdf",
        ),
        ("/srv/closeflow/var/inbox/x.pdf:3: bad amount", "x.pdf:3: bad amount"),
        ("'/srv/in/a.pdf' and (/tmp/x/b.pdf)", "'a.pdf' and (b.pdf)"),
        (
            "already arrived as /srv/in/Rechnung März 2026.pdf",
            "already arrived as Rechnung März 2026.pdf",
        ),
        ("/srv/my inbox/a.pdf", "a.pdf"),
        ("/tmp/t/<img src=x onerror=alert(1)>.pdf", "<img src=x onerror=alert(1)>.pdf"),
        ("C:\\Users\\Max Muster\\Desktop\\rechnung.pdf", "rechnung.pdf"),
        ("\\\\fileserver\\scans\\2026\\f.pdf", "f.pdf"),
        ("file:///srv/in/y.pdf", "y.pdf"),
        ("moved to /srv/archive/", "moved to archive"),
    ],
)
def test_absolute_paths_become_file_names(text, public):
    assert public_path(text) == public


@pytest.mark.parametrize(
    "text",
    [
        "inbox/a.pdf",  # relative: no server directory
        "see https://example.com/a/b.pdf",
        "Gehalt 01/2026",
        "and / or, km/h",
        "<b>Evil</b> GmbH · <script>alert(1)</script>",
        "/EREF/CF-PAY-00001/SVWZ/Rechnung 4711",  # SWIFT codes in a remittance text
        "a.pdf",
    ],
)
def test_text_without_an_absolute_path_is_left_alone(text):
    assert public_path(text) == text


def test_file_name_of_posix_and_windows_paths():
    assert file_name("/srv/in/a.pdf") == "a.pdf"
    assert file_name("C:\\in\\b.pdf") == "b.pdf"
    assert file_name("c.pdf") == "c.pdf"
    assert file_name(None) is None


def test_public_text_removes_paths_then_masks():
    text = "/srv/in/DE89370400440532013000/scan.pdf from DE89370400440532013000"
    assert public_text(text) == "scan.pdf from ****3000"
    assert public_text("/srv/in/IBAN_DE89370400440532013000.pdf") == "IBAN_****3000.pdf"


def test_failure_mail_body_has_no_account_and_no_path(tmp_path, monkeypatch):
    """The real notifier through a real SMTP server."""
    from types import SimpleNamespace

    from closeflow.airflow.notify import FailureNotifier
    from tests.smtp import SmtpServer, airflow_connection, text_of

    ti = SimpleNamespace(dag_id="ledger_nightly", task_id="bank", run_id="r", try_number=1)
    error = ValueError(
        "/srv/closeflow/var/bank_inbox/camt053_DE89370400440532013000_2026-01-05.xml:12: "
        "line for Konto 0532013000 does not add up (RE-2026-00012, 1.234,56 EUR)"
    )
    with SmtpServer() as smtp:
        monkeypatch.setenv("CLOSEFLOW_HOME", str(tmp_path))
        monkeypatch.setenv("AIRFLOW_CONN_CLOSEFLOW_SMTP", airflow_connection(smtp.port))
        monkeypatch.setenv("CLOSEFLOW_ALERT_TO", "oncall@example.com")
        FailureNotifier().notify({"task_instance": ti, "exception": error})
    [mail] = smtp.messages
    body = text_of(mail)
    assert (
        "error: ValueError: camt053_****3000_2026-01-05.xml:12: line for Konto ****3000 "
        "does not add up (RE-2026-00012, 1.234,56 EUR)"
    ) in body
    assert "/srv/" not in body and "0532013000" not in body
