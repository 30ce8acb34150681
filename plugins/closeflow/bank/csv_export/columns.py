"""The column names a bank CSV's header row uses for each field of a bank line, in English,
German, French, Spanish, Italian, Dutch and Chinese, and the placing of a header's
columns by those names (the generic reader; a bank mapping places them itself).

Names are normalised (closeflow.bank.mappings.norm: lower case, no accents, punctuation
as single spaces). Where several columns could hold one field (ICBC's 交易金额 and
记账金额), the earlier name in the field's list wins; every text column (摘要 and 客户摘要,
Buchungstext and Verwendungszweck) is kept, joined. An amount column may name its
currency (`Betrag (EUR)`, `Amount EUR`).
"""

from __future__ import annotations

import re

from closeflow.bank.mappings import norm

# canonical field -> header names, normalised (see mappings.norm): lower case, no accents,
# punctuation as single spaces. Within a field, earlier names are preferred when a header
# has several columns for it.
# fmt: off
ALIASES: dict[str, tuple[str, ...]] = {
    "booking_date": (
        "booking date", "bookingdate", "date", "transaction date", "posting date",
        "posted date", "buchungstag", "buchungsdatum", "datum", "date operation",
        "date d operation", "date de l operation", "date comptable", "fecha",
        "fecha operacion", "fecha de operacion", "fecha contable", "f operacion",
        "data contabile", "data operazione", "data", "boekdatum", "transactiedatum",
        "记账日期", "交易日期", "入账日期", "交易时间", "记账时间", "交易日", "日期", "发生日期",
    ),
    "value_date": (
        "value date", "valuta", "valutadatum", "wertstellung", "wertstellungsdatum",
        "date de valeur", "date valeur", "fecha valor", "fecha de valor", "f valor",
        "data valuta", "rentedatum", "起息日", "起息日期",
    ),
    "amount": (
        "amount", "betrag", "umsatz", "montant", "importe", "transaction amount", "importo",
        "bedrag", "bedrag eur", "交易金额", "发生额", "金额", "交易金额 元", "金额 元",
    ),
    "debit": (
        "debit", "debit amount", "soll", "belastung", "cargo", "cargos", "withdrawal",
        "withdrawals", "money out", "paid out", "montant debit", "dare", "uscite",
        "记账金额 支出", "支出金额", "支出", "借方发生额", "借方金额", "支取金额", "支出 元",
        "交易金额 支出",
    ),
    "credit": (
        "credit", "credit amount", "haben", "gutschrift", "abono", "abonos", "deposit",
        "deposits", "money in", "paid in", "montant credit", "avere", "entrate",
        "记账金额 收入", "收入金额", "收入", "贷方发生额", "贷方金额", "存入金额", "存入",
        "收入 元", "交易金额 收入",
    ),
    "sign": (
        "debit credit", "credit debit", "dr cr", "cr dr", "d c", "c d", "soll haben", "s h",
        "sens", "debe haber", "cdtdbtind", "af bij", "借贷标志", "借贷", "借贷状态", "借贷方向",
        "收 支", "收支", "交易方向", "收支类型",
    ),
    "currency": (
        "currency", "ccy", "waehrung", "wahrung", "devise", "moneda", "divisa", "valuta eur",
        "munt", "记账币种", "币种", "货币", "币别", "交易币种",
    ),
    "counterparty_name": (
        "counterparty name", "counterparty", "payee", "payer", "beneficiary", "name",
        "partner name", "partner", "payee name", "payer name", "beneficiary name",
        "other party", "merchant", "beguenstigter zahlungspflichtiger",
        "begunstigter zahlungspflichtiger", "auftraggeber begunstigter", "empfanger",
        "zahlungsempfanger", "name zahlungsbeteiligter", "auftraggeber empfanger",
        "beneficiaire", "tiers", "nom du tiers", "beneficiario", "ordenante",
        "naam omschrijving", "naam tegenpartij", "naam", "对方户名", "对方名称", "交易对方",
        "对方账户名", "对方户名称", "收 付款方", "对手信息", "对方",
    ),
    "counterparty_account": (
        "counterparty account", "counterparty iban", "kontonummer iban", "gegenkonto",
        "iban gegenkonto", "iban zahlungsempfanger", "iban zahlungsbeteiligter",
        "compte contrepartie", "cuenta contrapartida", "cuenta beneficiario", "tegenrekening",
        "tegenrekening iban", "对方账号", "对方账户", "对方卡号", "对方帐号",
    ),
    "remittance_info": (
        "remittance info", "remittance information", "description", "details", "memo",
        "narrative", "purpose", "payment text", "payment details", "payment reference",
        "transaction text", "booking text", "text", "verwendungszweck", "buchungstext",
        "vorgang", "libelle", "libelle operation", "motif", "concepto", "descripcion",
        "descrizione", "causale", "omschrijving", "mededelingen", "摘要", "交易摘要", "用途",
        "附言", "交易附言", "备注", "客户摘要", "交易详情", "商品说明", "交易说明", "摘要说明",
    ),
    "bank_reference": (
        "bank reference", "reference", "ref", "transaction id", "transaction reference",
        "referenz", "bankreferenz", "numero de reference", "referencia", "riferimento",
        "流水号", "交易流水号", "交易单号", "交易订单号", "凭证号", "业务编号",
    ),
    "end_to_end_id": (
        "end to end id", "endtoendid", "end to end reference", "end to end referenz",
    ),
    "account_id": (
        "account id", "account", "account number", "iban", "konto", "kontonummer",
        "auftragskonto", "compte", "numero de compte", "cuenta", "numero de cuenta",
        "rekening", "rekeningnummer", "本方账号", "账号", "卡号",
    ),
    "balance": (
        "balance", "running balance", "saldo", "kontostand", "solde", "saldo na mutatie",
        "余额", "账户余额", "交易后余额", "联机余额", "本次余额",
    ),
}
# fmt: on
FIELD_OF = {
    alias: (name, rank) for name, aliases in ALIASES.items() for rank, alias in enumerate(aliases)
}
MONEY_FIELDS = ("amount", "debit", "credit", "balance")
TEXT_FIELDS = ("remittance_info",)  # every column found is kept, joined


def map_header(fields: list[str]) -> tuple[dict[str, list[int]], str | None]:
    """The fields the header cells `fields` name (field -> column positions), and the
    currency an amount column's name gives (`Betrag (EUR)`), if any."""
    best: dict[str, tuple[int, int]] = {}  # field -> (rank, position)
    texts: dict[str, list[int]] = {}
    implied = None
    for i, raw in enumerate(fields):
        name = norm(raw)
        found = FIELD_OF.get(name)
        if found is None:  # "Betrag (EUR)", "Amount EUR": an amount column naming its currency
            m = re.fullmatch(r"(.+) ([a-z]{3})", name)
            if m and FIELD_OF.get(m.group(1), ("",))[0] in MONEY_FIELDS:
                found, implied = FIELD_OF[m.group(1)], m.group(2).upper()
        if found is None:
            continue
        fld, rank = found
        if fld in TEXT_FIELDS:
            texts.setdefault(fld, []).append(i)
        elif fld not in best or rank < best[fld][0]:
            best[fld] = (rank, i)
    columns = {fld: [i] for fld, (_, i) in best.items()}
    columns.update(texts)
    return columns, implied


def is_header(columns: dict[str, list[int]]) -> bool:
    """Whether placed columns make a header: a booking date and an amount (signed, or a
    debit or credit column)."""
    has_amount = "amount" in columns or "debit" in columns or "credit" in columns
    return "booking_date" in columns and has_amount
