"""MT940/MT942, camt.052/054, OFX 2.x/QFX and BAI2 files written here, for the cases the
real sample files do not show: batch bookings with their transaction details, interim
reports, structured texts, 0- and 3-decimal currencies, and hostile XML."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from closeflow.bank import StatementError, parse_statement, parse_statements

D = Decimal


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- MT940 / MT942 ---------------------------------------------------------------------

MT940 = """{1:F01BANKDEFFXXXX0000000000}{2:O9401200260110BANKDEFFXXXX00000000002601101200N}{4:
:20:STMT0110
:25:DE89370400440532013000
:28C:7/1
:60F:C260109EUR1000,00
:61:2601100110D250,00NTRFNONREF//BK-0001
:86:166?00SEPA-UEBERWEISUNG?20EREF+INV-2026-17?21SVWZ+Rechnung 2026-17?22Danke?30COBADEFF
?31DE02120300000000202051?32Nordwind Logistik GmbH
:61:2601100110C1500,50NTRFREF-2//BK-0002
:86:/TRTP/SEPA OVERBOEKING/IBAN/NL91ABNA0417164300/BIC/ABNANL2A/NAME/Kunde B.V./REMI/USTD//
Factuur 88/EREF/E2E-88
:62F:C260110EUR2250,50
-}
"""


def test_mt940_in_a_swift_envelope_with_structured_details(tmp_path: Path) -> None:
    st = parse_statement(write(tmp_path, "s.sta", MT940))
    assert st.statement["source_format"] == "mt940"
    assert st.statement["account_id"] == "DE89370400440532013000"
    assert (st.statement["opening_balance"], st.statement["closing_balance"]) == (
        D("1000.00"),
        D("2250.50"),
    )
    german, dutch = st.lines
    assert german["amount"] == D("-250.00")
    assert german["booking_date"] == dt.date(2026, 1, 10)
    assert german["counterparty_name"] == "Nordwind Logistik GmbH"
    assert german["counterparty_account"] == "DE02120300000000202051"
    assert german["remittance_info"] == "Rechnung 2026-17Danke"
    assert german["end_to_end_id"] == "INV-2026-17"
    assert german["bank_reference"] == "BK-0001"
    assert dutch["amount"] == D("1500.50")
    assert dutch["counterparty_name"] == "Kunde B.V."
    assert dutch["counterparty_account"] == "NL91ABNA0417164300"
    assert dutch["remittance_info"] == "Factuur 88"
    assert dutch["end_to_end_id"] == "E2E-88"


def test_mt940_garbled_amount_is_refused_not_read_short(tmp_path: Path) -> None:
    text = MT940.replace("D250,00NTRF", "D25..0NTRF")
    with pytest.raises(StatementError) as err:
        parse_statements(write(tmp_path, "s.sta", text))
    assert err.value.line == 6
    assert "the :61: line '2601100110D25..0NTRFNONREF//BK-0001' is not an MT940 booking" in str(
        err.value
    )


MT942 = """:20:INTRADAY-0110
:25:DE89370400440532013000
:28C:8/1
:34F:EUR0,
:13D:2601101530+0100
:61:2601100110D99,90NDDTNONREF//BK-77
:86:Telefon Januar
:61:2601100110C12,00NTRFNONREF//BK-78
:86:Erstattung
:90D:1EUR99,90
:90C:1EUR12,00
"""


def test_mt942_interim_report_checked_against_its_turnover_totals(tmp_path: Path) -> None:
    st = parse_statement(write(tmp_path, "r.sta", MT942))
    assert st.statement["source_format"] == "mt942"
    assert st.statement["opening_balance"] is None and st.statement["closing_balance"] is None
    assert [ln["amount"] for ln in st.lines] == [D("-99.90"), D("12.00")]
    assert [ln["remittance_info"] for ln in st.lines] == ["Telefon Januar", "Erstattung"]
    assert any("cannot check that no line is missing" in w for w in st.warnings)
    short = MT942.replace(":90D:1EUR99,90", ":90D:2EUR149,90")
    with pytest.raises(StatementError) as err:
        parse_statements(write(tmp_path, "short.sta", short))
    assert err.value.line == 10
    assert "debit total (:90D:) is 2 lines of 149.90, but its lines hold 1 of 99.90" in str(
        err.value
    )


# --- camt.052 / camt.054 with batch bookings -------------------------------------------


def camt(kind: str, body: str, stmt: str, balances: str = "") -> str:
    return (
        f'<?xml version="1.0"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{kind}">\n'
        f"<{body}><GrpHdr><MsgId>M1</MsgId></GrpHdr>\n<{stmt}><Id>R-1</Id>\n"
        "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>\n"
        f"{balances}"
        '<Ntry><Amt Ccy="EUR">300.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>\n'
        "<BookgDt><Dt>2026-01-12</Dt></BookgDt><AcctSvcrRef>BATCH-9</AcctSvcrRef>\n"
        "<NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>\n"
        "<TxDtls><Refs><EndToEndId>SAL-1</EndToEndId></Refs>"
        '<Amt Ccy="EUR">100.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
        "<RltdPties><Cdtr><Nm>Anna Berg</Nm></Cdtr><CdtrAcct><Id><IBAN>DE11</IBAN></Id>"
        "</CdtrAcct></RltdPties><RmtInf><Ustrd>Lohn Januar</Ustrd></RmtInf></TxDtls>\n"
        "<TxDtls><Refs><EndToEndId>SAL-2</EndToEndId></Refs>"
        '<AmtDtls><TxAmt><Amt Ccy="EUR">200.00</Amt></TxAmt></AmtDtls>'
        "<RltdPties><Cdtr><Nm>Ben Ohm</Nm></Cdtr></RltdPties>"
        "<RmtInf><Ustrd>Lohn Januar</Ustrd></RmtInf></TxDtls>\n"
        f"</NtryDtls></Ntry>\n</{stmt}></{body}></Document>\n"
    )


BALANCES = (
    '<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt>'
    "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-01-12</Dt></Dt></Bal>\n"
    '<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">700.00</Amt>'
    "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-01-12</Dt></Dt></Bal>\n"
)


@pytest.mark.parametrize(
    ("kind", "body", "stmt", "balances", "fmt"),
    [
        ("camt.052.001.08", "BkToCstmrAcctRpt", "Rpt", BALANCES, "camt.052"),
        ("camt.054.001.08", "BkToCstmrDbtCdtNtfctn", "Ntfctn", "", "camt.054"),
        ("camt.053.001.04", "BkToCstmrStmt", "Stmt", BALANCES, "camt.053"),
    ],
)
def test_batch_booking_is_split_into_its_transaction_details(
    tmp_path: Path, kind: str, body: str, stmt: str, balances: str, fmt: str
) -> None:
    st = parse_statement(write(tmp_path, "c.xml", camt(kind, body, stmt, balances)))
    assert st.statement["source_format"] == fmt
    assert [ln["amount"] for ln in st.lines] == [D("-100.00"), D("-200.00")]
    assert [ln["counterparty_name"] for ln in st.lines] == ["Anna Berg", "Ben Ohm"]
    assert [ln["end_to_end_id"] for ln in st.lines] == ["SAL-1", "SAL-2"]
    assert st.lines[0]["counterparty_account"] == "DE11"
    assert all(ln["bank_reference"] == "BATCH-9" for ln in st.lines)
    assert len({ln["line_key"] for ln in st.lines}) == 2
    if balances:
        assert st.statement["closing_balance"] == D("700.00")
    else:
        assert any("no opening and closing balances" in w for w in st.warnings)


def test_batch_whose_details_do_not_add_up_stays_one_line_with_a_warning(tmp_path: Path) -> None:
    text = camt("camt.054.001.08", "BkToCstmrDbtCdtNtfctn", "Ntfctn").replace(
        ">200.00<", ">150.00<"
    )
    st = parse_statement(write(tmp_path, "c.xml", text))
    assert [ln["amount"] for ln in st.lines] == [D("-300.00")]
    assert any("whose amounts add up to -250.00; it is kept as one line" in w for w in st.warnings)


XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
    "&x;</BkToCstmrStmt></Document>\n"
)
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
)


@pytest.mark.parametrize("kind", ["camt.052.001.02", "camt.054.001.02"])
def test_external_entities_and_billion_laughs_are_refused_in_camt(
    tmp_path: Path, kind: str
) -> None:
    for n, text in enumerate(
        (
            XXE.replace("camt.053.001.02", kind),
            LAUGHS + f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{kind}">&lol3;</Document>',
        )
    ):
        with pytest.raises(StatementError, match="refused as unsafe") as err:
            parse_statements(write(tmp_path, f"bomb{n}.xml", text))
        assert err.value.line == 2


# --- OFX 2.x XML and QFX -----------------------------------------------------------------

OFX2 = """<?xml version="1.0" encoding="UTF-8"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX>
<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
<DTSERVER>20260131120000</DTSERVER><LANGUAGE>ENG</LANGUAGE></SONRS></SIGNONMSGSRSV1>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID>
<STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
<STMTRS><CURDEF>USD</CURDEF>
<BANKACCTFROM><BANKID>121000248</BANKID><ACCTID>4455667788</ACCTID>
<ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>
<BANKTRANLIST><DTSTART>20260101</DTSTART><DTEND>20260131</DTEND>
<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20260130230000.000[-8:PST]</DTPOSTED>
<TRNAMT>-1,250.00</TRNAMT><FITID>2026013001</FITID><NAME>Acme &amp; Sons</NAME>
<MEMO>Invoice 4711</MEMO></STMTTRN>
<STMTTRN><TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20260115</DTPOSTED><TRNAMT>500.00</TRNAMT>
<FITID>2026011501</FITID><PAYEE><NAME>Client Inc</NAME></PAYEE>
<BANKACCTTO><BANKID>1</BANKID><ACCTID>999</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTTO>
</STMTTRN>
</BANKTRANLIST>
<LEDGERBAL><BALAMT>3250.00</BALAMT><DTASOF>20260131</DTASOF></LEDGERBAL>
</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""


def test_ofx2_xml_statement(tmp_path: Path) -> None:
    text = OFX2.replace("-1,250.00", "-1250.00")
    st = parse_statement(write(tmp_path, "s.ofx", text))
    assert st.statement["account_id"] == "4455667788"
    assert st.statement["closing_balance"] == D("3250.00")
    assert (st.statement["from_date"], st.statement["to_date"]) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 1, 31),
    )
    acme, client = st.lines
    # 23:00 Pacific is the 30th as the bank wrote it; never moved to the 31st in UTC
    assert acme["booking_date"] == dt.date(2026, 1, 30)
    assert (acme["amount"], acme["counterparty_name"], acme["remittance_info"]) == (
        D("-1250.00"),
        "Acme & Sons",
        "Invoice 4711",
    )
    assert (client["counterparty_name"], client["counterparty_account"]) == ("Client Inc", "999")
    assert client["bank_reference"] == "2026011501"


def test_ofx_amount_with_thousands_separator_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StatementError, match="amount '-1,250.00' is not a number"):
        parse_statements(write(tmp_path, "s.ofx", OFX2))


QFX = """OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20260131
<LANGUAGE>ENG<INTU.BID>3000<INTU.USERID>user</SONRS></SIGNONMSGSRSV1>
<CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>0<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<CCSTMTRS><CURDEF>JPY<CCACCTFROM><ACCTID>4000123412341234</CCACCTFROM>
<BANKTRANLIST><DTSTART>20260101<DTEND>20260131
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260105<TRNAMT>-12800<FITID>A1<NAME>AT&T<MEMO>Phone</STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>-12800<DTASOF>20260131</LEDGERBAL></CCSTMTRS>
</CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>
"""


def test_qfx_credit_card_statement_in_yen(tmp_path: Path) -> None:
    st = parse_statement(write(tmp_path, "card.qfx", QFX))
    assert (st.statement["account_id"], st.statement["currency"]) == ("4000123412341234", "JPY")
    assert st.statement["source_format"] == "ofx"
    (line,) = st.lines
    assert (line["amount"], line["counterparty_name"]) == (D("-12800.00"), "AT&T")
    yen_with_decimals = QFX.replace("-12800<FITID", "-12800.50<FITID")
    with pytest.raises(StatementError, match="-12800.50 JPY has decimals, but JPY amounts have"):
        parse_statements(write(tmp_path, "bad.qfx", yen_with_decimals))


@pytest.mark.parametrize("attack", [XXE.split("<Document")[0], LAUGHS])
def test_ofx2_with_dtd_or_entities_is_refused(tmp_path: Path, attack: str) -> None:
    head, body = OFX2.split("<OFX>", 1)
    text = head.split("\n", 1)[0] + "\n" + attack.split("\n", 1)[1] + "<OFX>" + body
    with pytest.raises(StatementError, match="refused as unsafe") as err:
        parse_statements(write(tmp_path, "bomb.ofx", text.replace("&lol3;", "")))
    assert err.value.line == 2


# --- BAI2 with 0- and 3-decimal currencies ------------------------------------------------


def bai2(currency: str, opening: str, amount: str, closing: str) -> str:
    total = int(opening) + int(closing) + int(amount) + int(amount)
    lines = [
        "01,BANK,CUSTOMER,260110,0800,1,,,2/",
        f"02,CUSTOMER,BANK,1,260109,2400,{currency},2/",
        f"03,ACCT-1,{currency},010,{opening},,,015,{closing},,,100,{amount},1,/",
        f"16,175,{amount},0,BREF-1,CREF-1,Deposit/",
        f"49,{total},3/",
        f"98,{total},1,5/",
        f"99,{total},1,7/",
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("currency", "opening", "amount", "closing", "want"),
    [
        ("JPY", "100000", "25000", "125000", ("100000.00", "25000.00", "125000.00")),
        ("KWD", "1000500", "250", "1000750", ("1000.50", "0.25", "1000.75")),
        ("USD", "100000", "2550", "102550", ("1000.00", "25.50", "1025.50")),
    ],
)
def test_bai2_amounts_in_the_currency_minor_unit(
    tmp_path: Path, currency: str, opening: str, amount: str, closing: str, want: tuple
) -> None:
    st = parse_statement(write(tmp_path, "f.bai2", bai2(currency, opening, amount, closing)))
    assert (
        str(st.statement["opening_balance"]),
        str(st.lines[0]["amount"]),
        str(st.statement["closing_balance"]),
    ) == want
    assert st.lines[0]["bank_reference"] == "BREF-1"
    assert st.lines[0]["booking_date"] == dt.date(2026, 1, 9)


def test_bai2_three_decimal_amount_that_is_not_whole_cents_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StatementError) as err:
        parse_statements(write(tmp_path, "f.bai2", bai2("KWD", "1000500", "255", "1000760")))
    assert err.value.line == 4
    assert "0.255 KWD is not a whole number of cents" in str(err.value)
    assert "refuses to round" in str(err.value)


def test_bai2_control_total_that_does_not_match_is_refused(tmp_path: Path) -> None:
    text = bai2("USD", "100000", "2550", "102550").replace("49,207650,3/", "49,207600,3/")
    with pytest.raises(StatementError) as err:
        parse_statements(write(tmp_path, "f.bai2", text))
    assert "control totals do not match" in str(err.value)
    assert err.value.line == 5


def test_bai2_total_credits_must_match_the_lines(tmp_path: Path) -> None:
    text = bai2("USD", "100000", "2550", "102550").replace(",100,2550,1,", ",100,2550,2,")
    with pytest.raises(StatementError, match="total credits .* are 2 of 25.50 USD"):
        parse_statements(write(tmp_path, "f.bai2", text))
