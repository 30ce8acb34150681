"""Statement files' text encodings are detected from the bytes, never guessed (issue 10).

Each export is written here as real bytes in its encoding and read through the real
parser; the Chinese bank exports in tests/fixtures/shared_data/bank/csv_cn are real files, read for
their encoding only (their Chinese headers are not mapped yet).
"""

from __future__ import annotations

import codecs
import datetime as dt
import logging
import random
from decimal import Decimal
from pathlib import Path

import pytest

from closeflow.bank import StatementError, detect_format, parse_statement, parse_statements
from closeflow.bank.encoding import DecodedText, EncodingError, decode_text
from tests.conftest import ROOT

CN = ROOT / "tests" / "fixtures" / "shared_data" / "bank" / "csv_cn"
D = Decimal

# the reported case: a Chinese bank's CSV with English headers, in GBK
GBK_ENGLISH_HEADERS = (
    "Date,Counterparty,Description,Amount,Currency\n"
    "2026-01-05,上海某某有限公司,工资,8500.00,CNY\n"
    "2026-01-07,支付宝,转账 给 张三,-200.00,CNY\n"
)
GBK_LINES = GBK_ENGLISH_HEADERS.splitlines(keepends=True)
GBK_ROWS = [
    (dt.date(2026, 1, 5), D("8500.00"), "上海某某有限公司", "工资"),
    (dt.date(2026, 1, 7), D("-200.00"), "支付宝", "转账 给 张三"),
]
# a German Windows export: a few umlauts, a euro sign, nothing else to go by
GERMAN = (
    "Buchungstag;Empfänger;Verwendungszweck;Betrag;Währung\n"
    "02.01.2026;Hans Müller;Miete Januar 850 €;-850,00;EUR\n"
    "03.01.2026;Sparkasse;Gebühr Kontoführung;-4,50;EUR\n"
)
GERMAN_ROWS = [
    (dt.date(2026, 1, 2), D("-850.00"), "Hans Müller", "Miete Januar 850 €"),
    (dt.date(2026, 1, 3), D("-4.50"), "Sparkasse", "Gebühr Kontoführung"),
]
GERMAN_ONE_ROW = "Datum;Name;Verwendungszweck;Betrag;Währung\n02.01.2026;Müller;Gebühr;-4,50;EUR\n"
# Chinese and German in one file: only a Unicode encoding holds both
MIXED = (
    "Date,Counterparty,Description,Amount,Currency\n"
    "2026-01-05,上海某某有限公司,Gebühr Müller,8500.00,CNY\n"
)
MIXED_ROWS = [(dt.date(2026, 1, 5), D("8500.00"), "上海某某有限公司", "Gebühr Müller")]


def lines_of(st) -> list[tuple]:
    return [
        (ln["booking_date"], ln["amount"], ln["counterparty_name"], ln["remittance_info"])
        for ln in st.lines
    ]


def write(tmp_path: Path, data: bytes, name: str = "bank.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "encoding", "currency", "rows"),
    [
        pytest.param(GBK_ENGLISH_HEADERS.encode("gbk"), "gbk", "CNY", GBK_ROWS, id="gbk"),
        pytest.param(
            GBK_ENGLISH_HEADERS.replace("张三", "刘䶮").encode("gb18030"),  # 䶮 is not in GBK
            "gb18030",
            "CNY",
            [GBK_ROWS[0], (*GBK_ROWS[1][:3], "转账 给 刘䶮")],
            id="gb18030",
        ),
        pytest.param(GERMAN.encode("cp1252"), "cp1252", "EUR", GERMAN_ROWS, id="cp1252"),
        pytest.param(
            GERMAN_ONE_ROW.encode("cp1252"),
            "cp1252",
            "EUR",
            [(dt.date(2026, 1, 2), D("-4.50"), "Müller", "Gebühr")],
            id="cp1252-one-row",
        ),
        # the same bytes but for € (0xA4 here, 0x80 in Windows-1252)
        pytest.param(GERMAN.encode("iso8859-15"), "iso8859-15", "EUR", GERMAN_ROWS, id="latin-9"),
        pytest.param(MIXED.encode("utf-8"), "utf-8", "CNY", MIXED_ROWS, id="utf-8"),
        pytest.param(MIXED.encode("utf-8-sig"), "utf-8-sig", "CNY", MIXED_ROWS, id="utf-8-bom"),
        pytest.param(MIXED.encode("utf-16"), "utf-16", "CNY", MIXED_ROWS, id="utf-16-le-bom"),
        pytest.param(
            codecs.BOM_UTF16_BE + MIXED.encode("utf-16-be"),
            "utf-16",
            "CNY",
            MIXED_ROWS,
            id="utf-16-be-bom",
        ),
        pytest.param(MIXED.encode("utf-32"), "utf-32", "CNY", MIXED_ROWS, id="utf-32-bom"),
        pytest.param(
            b"Date,Counterparty,Description,Amount,Currency\n"
            b"2026-01-05,ACME Ltd,Invoice 17,8500.00,USD\n",
            "ascii",
            "USD",
            [(dt.date(2026, 1, 5), D("8500.00"), "ACME Ltd", "Invoice 17")],
            id="ascii",
        ),
    ],
)
def test_encoding_is_detected_and_the_values_read_exactly(
    tmp_path: Path, data: bytes, encoding: str, currency: str, rows: list[tuple]
) -> None:
    assert decode_text(data).encoding == encoding
    st = parse_statement(write(tmp_path, data))
    assert lines_of(st) == rows
    assert (st.statement["account_id"], st.statement["currency"]) == ("bank", currency)


def test_a_one_row_gbk_file_is_not_read_as_windows_1252(tmp_path: Path) -> None:
    # charset-normalizer alone ranks Windows-1252 first on this, reading 支付宝 as Ö§¸¶±¦:
    # the Latin check refuses that reading (¸ ¶ ± ¦ and a run of six accented characters),
    # the Chinese one accepts 支付宝 (three of GB2312's common ideographs)
    data = "Date,Counterparty,Amount,Currency\n2026-01-02,支付宝,1000.00,CNY\n".encode("gbk")
    assert decode_text(data) == DecodedText(data.decode("gbk"), "gbk")
    st = parse_statement(write(tmp_path, data))
    assert st.lines[0]["counterparty_name"] == "支付宝"


def test_a_one_row_german_file_is_not_read_as_gbk() -> None:
    # as GBK, "Müller" would be "M黮ler": 黮 is a rare ideograph outside GB2312
    data = "Date;Name;Amount\n02.01.2026;Müller;-850,00\n".encode("cp1252")
    assert decode_text(data).text == "Date;Name;Amount\n02.01.2026;Müller;-850,00\n"


def test_the_encoding_is_logged_when_it_is_not_utf8(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, GBK_ENGLISH_HEADERS.encode("gbk"))
    with caplog.at_level(logging.INFO, logger="closeflow.bank.csv_export"):
        parse_statements(path)
    assert f"{path}: text encoding detected as gbk" in caplog.messages
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="closeflow.bank.csv_export"):
        parse_statements(write(tmp_path, GBK_ENGLISH_HEADERS.encode("utf-8"), "u.csv"))
    assert not caplog.messages


@pytest.mark.parametrize(
    "soup",
    [
        bytes(range(0x80, 0x100)),  # 0x81 is no Windows-1252 character, 0xFF no GBK byte
        # bytes that decode, but to nothing a bank writes: GB18030 to rare ideographs among
        # private-use characters, Windows-1252 and ISO-8859-15 to runs of accents and signs
        bytes(random.Random(10).choices(range(0xA1, 0xFF), k=400)),
    ],
    ids=["undecodable", "decodable-nonsense"],
)
def test_byte_soup_is_refused_naming_the_file(tmp_path: Path, soup: bytes) -> None:
    path = write(tmp_path, b"Date,Name,Amount,Currency\n2026-01-02," + soup + b",1.00,EUR\n")
    with pytest.raises(StatementError) as err:
        parse_statements(path)
    assert err.value.line is None
    assert str(err.value) == (
        f"{path}: the file's text encoding could not be determined (it is not UTF-8; nor does "
        "it read as text in GBK, GB18030, Windows-1252 or ISO-8859-15): save it as UTF-8"
    )


def test_too_little_text_to_tell_gbk_from_windows_1252_is_refused(tmp_path: Path) -> None:
    # 款 (BF EE) is also ¿î in Windows-1252: both read plausibly, nothing else in the file
    path = write(tmp_path, "Date,Memo,Amount,Currency\n2026-01-02,款,1.00,CNY\n".encode("gbk"))
    with pytest.raises(StatementError) as err:
        parse_statements(path)
    assert str(err.value) == (
        f"{path}: the file's text encoding could not be determined (it is not UTF-8; it could "
        "be GBK or Windows-1252): save it as UTF-8"
    )


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("Дата;Получатель;Сумма\n02.01.2026;Иванов Петр;-850,00\n", "cp1251"),  # Russian
        ("Datum;Příjemce;Částka\n02.01.2026;Dvořák Jiří;-850,00\n", "cp1250"),  # Czech
        ("Data;Tytuł;Kwota\n02.01.2026;Wpłata gotówki;850,00\n", "cp1250"),  # Polish
    ],
)
def test_encodings_outside_the_candidates_are_refused_not_misread(text: str, codec: str) -> None:
    with pytest.raises(EncodingError, match="could not be determined"):
        decode_text(text.encode(codec))


def test_a_bom_that_lies_is_refused() -> None:
    with pytest.raises(EncodingError, match="UTF-16 byte order mark but is not valid UTF-16"):
        decode_text(codecs.BOM_UTF16_LE + "Date,Amount".encode("utf-16-le") + b"\x00\xd8")
    with pytest.raises(EncodingError, match="UTF-8 byte order mark but is not valid UTF-8"):
        decode_text(codecs.BOM_UTF8 + "Gebühr".encode("cp1252"))


def test_nul_bytes_are_not_text() -> None:
    # UTF-16 without a byte order mark: all ASCII, but every other byte is NUL
    with pytest.raises(EncodingError, match="NUL characters"):
        decode_text("Date,Amount\n2026-01-02,1.00\n".encode("utf-16-le"))


def cut_inside(text: str, codec: str, char: str) -> bytes:
    """`text` in `codec`, cut after the first byte of `char`'s first occurrence."""
    data = text.encode(codec)
    return data[: data.index(char.encode(codec)) + 1]


@pytest.mark.parametrize(
    ("head", "decoded"),
    [
        # legacy bytes are read up to their last line feed: the header and the first row
        (cut_inside(GBK_ENGLISH_HEADERS, "gbk", "支"), DecodedText("".join(GBK_LINES[:2]), "gbk")),
        # ... and when only the header is left, it is ASCII
        (cut_inside(GBK_ENGLISH_HEADERS, "gbk", "某"), DecodedText(GBK_LINES[0], "ascii")),
        # UTF-8 up to its last whole character
        (cut_inside(MIXED, "utf-8", "有"), DecodedText(MIXED.split("有")[0], "utf-8")),
    ],
)
def test_a_head_cut_inside_a_character_still_decodes(head: bytes, decoded: DecodedText) -> None:
    assert decode_text(head, complete=False) == decoded


def test_a_long_gbk_export_is_detected_from_its_head_and_read_whole(tmp_path: Path) -> None:
    rows = "".join(
        f"2026-01-{1 + i % 28:02d},上海某某有限公司,工资 {i},{i}.50,CNY\n" for i in range(3000)
    )
    data = ("Date,Counterparty,Description,Amount,Currency\n" + rows).encode("gbk")
    assert len(data) > 64 * 1024
    assert detect_format(data) == "csv"  # the format sniff sees the first 64 KiB only
    st = parse_statement(write(tmp_path, data))
    assert len(st.lines) == 3000
    assert st.lines[-1]["remittance_info"] == "工资 2999"


# --- the real Chinese bank exports: their encodings ------------------------------------------


@pytest.mark.parametrize(
    ("name", "encoding", "text"),
    [
        ("deg_alipay_example-alipay-records.csv", "gbk", "支付宝（中国）网络技术有限公司"),
        ("deg_cmb_example-cmb-records.csv", "utf-8", "代发住房公积金"),
        ("deg_icbc_example-icbc-debit-v2-records.csv", "utf-8", "深圳市财付通支付科技有限公司"),
    ],
)
def test_real_chinese_exports_decode_in_their_encoding(name: str, encoding: str, text: str) -> None:
    data = (CN / name).read_bytes()
    decoded = decode_text(data)
    assert decoded.encoding == encoding
    assert decoded.text == data.decode(encoding)
    assert text in decoded.text


@pytest.mark.parametrize(
    "name", ["deg_cmb_example-cmb-records.csv", "deg_icbc_example-icbc-debit-v2-records.csv"]
)
@pytest.mark.parametrize("codec", ["gbk", "gb18030"])
def test_real_chinese_exports_saved_in_gbk_are_detected_whole_and_by_their_first_rows(
    name: str, codec: str
) -> None:
    text = (CN / name).read_text("utf-8")
    assert decode_text(text.encode(codec)) == DecodedText(text, "gbk")  # GBK holds it all
    lines = text.splitlines(keepends=True)
    header = next(i for i, line in enumerate(lines) if line.count(",") > 5)
    short = "".join(lines[header : header + 2])  # the header and one row
    assert decode_text(short.encode(codec)) == DecodedText(short, "gbk")
