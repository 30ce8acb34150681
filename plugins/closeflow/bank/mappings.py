"""Bank CSV mapping files: which column of a bank's export holds what, as YAML data.

A bank's CSV export is described by one small YAML file, so that a new bank needs no code.
closeflow ships mappings for common layouts (`closeflow/bank/mappings/*.yml`: China
Merchants Bank, ICBC, Bank of China, Bank of Communications, Agricultural Bank of China,
China Construction Bank, Alipay, WeChat Pay, ...); a user adds their own in
`$CLOSEFLOW_HOME/company/bank_mappings/*.yml` (those are tried first), or names one for a
file with `closeflow bank parse FILE --mapping M.yml`. A file that no mapping names is
read by the generic CSV reader, which knows the usual column names in English, German,
French, Spanish, Italian, Dutch and Chinese.

A mapping (every key but `name`, `match` and `columns` may be left out)::

    name: alipay                      # how warnings and errors name it
    description: Alipay account export (支付宝交易明细)
    match:                            # a file is this bank's when ...
      header: [交易时间, 交易对方, 收/支, 金额]   # ... one of its first 60 lines holds
                                      #     all these column names,
      text: [支付宝]                   # ... and these words appear above that line
    columns:                          # by header name, or by position (1 = first column);
      booking_date: 交易时间           # a list joins several columns (texts) or takes the
      amount: 金额                     # first that is filled (others)
      sign: 收/支                      # debit/credit marker column (D/C, S/H, 借/贷, ...)
      counterparty_name: 交易对方
      counterparty_account: 对方账号
      remittance_info: [商品说明, 备注]
      bank_reference: 交易订单号
    signs:                            # marker values, besides the usual D/C/S/H/借/贷
      debit: [支出]
      credit: [收入]
      ignore: [不计收支]                # rows that moved no money in or out: left out
    skip_rows:                        # rows to leave out, by column value
      交易状态: [交易关闭]
    currency: CNY                     # when the file has no currency column
    date_format: "%Y-%m-%d %H:%M:%S"  # strptime; else decided from the whole file
    date_order: DMY                   # or only the order (DMY, MDY, YMD)
    decimal: "."                      # "." or ","; else decided from the whole file
    delimiter: ","                    # else detected
    header: true                      # false: no header row, columns are positions
    invert_amounts: false             # true for card exports that show spending positive

Columns (fields of `bank_lines`): booking_date (required), value_date, amount (signed), or
debit and credit (two columns), sign, currency, counterparty_name, counterparty_account,
remittance_info, bank_reference, end_to_end_id, account_id, balance (a running balance:
then every row is checked against the one before).

A mapping that cannot be used raises `ConfigError` naming its file, line and the fix.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

BUILTIN = Path(__file__).with_name("mappings")

ColumnRef = str | int | list[str | int]

FIELDS = (
    "booking_date",
    "value_date",
    "amount",
    "debit",
    "credit",
    "sign",
    "currency",
    "counterparty_name",
    "counterparty_account",
    "remittance_info",
    "bank_reference",
    "end_to_end_id",
    "account_id",
    "balance",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Match(_Strict):
    header: list[str] = Field(default_factory=list)
    text: list[str] = Field(default_factory=list)


class Columns(_Strict):
    booking_date: ColumnRef
    value_date: ColumnRef | None = None
    amount: ColumnRef | None = None
    debit: ColumnRef | None = None
    credit: ColumnRef | None = None
    sign: ColumnRef | None = None
    currency: ColumnRef | None = None
    counterparty_name: ColumnRef | None = None
    counterparty_account: ColumnRef | None = None
    remittance_info: ColumnRef | None = None
    bank_reference: ColumnRef | None = None
    end_to_end_id: ColumnRef | None = None
    account_id: ColumnRef | None = None
    balance: ColumnRef | None = None

    @field_validator("*")
    @classmethod
    def _positions_from_1(cls, v: ColumnRef | None) -> ColumnRef | None:
        for ref in v if isinstance(v, list) else [v]:
            if isinstance(ref, int) and ref < 1:
                raise ValueError("a column position counts from 1 (the first column)")
            if isinstance(ref, str) and not ref.strip():
                raise ValueError("a column name cannot be empty")
        return v

    @model_validator(mode="after")
    def _has_an_amount(self) -> Columns:
        if self.amount is None and self.debit is None and self.credit is None:
            raise ValueError("name the amount column (amount), or the debit and credit columns")
        return self

    def refs(self) -> dict[str, list[str | int]]:
        out = {}
        for name in FIELDS:
            v = getattr(self, name)
            if v is not None:
                out[name] = v if isinstance(v, list) else [v]
        return out


class Signs(_Strict):
    debit: list[str] = Field(default_factory=list)
    credit: list[str] = Field(default_factory=list)
    ignore: list[str] = Field(default_factory=list)


class BankMapping(_Strict):
    name: str
    description: str = ""
    match: Match = Field(default_factory=Match)
    columns: Columns
    header: bool = True
    delimiter: Literal[",", ";", "\t", "|"] | None = None
    decimal: Literal[".", ","] | None = None
    date_format: str | list[str] | None = None
    date_order: Literal["DMY", "MDY", "YMD"] | None = None
    currency: str | None = None
    signs: Signs = Field(default_factory=Signs)
    skip_rows: dict[str, list[str]] = Field(default_factory=dict)
    invert_amounts: bool = False
    path: str = ""  # set on load: the file it came from

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Z]{3}", v):
            raise ValueError(f"{v!r} is not an ISO currency code such as EUR or CNY")
        return v

    @field_validator("date_format")
    @classmethod
    def _strptime(cls, v: str | list[str] | None) -> str | list[str] | None:
        for fmt in [v] if isinstance(v, str) else v or []:
            if "%" not in fmt:
                raise ValueError(f"{fmt!r} is not a date format such as '%d.%m.%Y'")
        return v

    @model_validator(mode="after")
    def _positions_without_header(self) -> BankMapping:
        if not self.header:
            names = [r for refs in self.columns.refs().values() for r in refs if isinstance(r, str)]
            if names:
                raise ValueError(
                    f"without a header row, columns are positions (1, 2, ...), not names "
                    f"such as {names[0]!r}"
                )
        return self

    @property
    def date_formats(self) -> list[str]:
        if self.date_format is None:
            return []
        return [self.date_format] if isinstance(self.date_format, str) else self.date_format


def norm(header: str) -> str:
    """A header name as compared: case, accents, punctuation and widths do not count."""
    text = unicodedata.normalize("NFKD", header.strip().strip('"').casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def load(path: Path | str) -> BankMapping:
    """One mapping file, validated (`ConfigError` names file, line and fix)."""
    from closeflow.config import ConfigError, load_model, read_yaml

    path = Path(path)
    data, _ = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(path, 1, "a bank mapping is a YAML mapping", "start with `name: ...`")
    mapping = load_model(path, BankMapping, data)
    return mapping.model_copy(update={"path": str(path)})


def user_folder() -> Path:
    home = Path(os.environ.get("CLOSEFLOW_HOME", Path.cwd() / "var"))
    return home / "company" / "bank_mappings"


def folders() -> list[Path]:
    """Where mappings are looked for: the user's folder first, then closeflow's own."""
    return [user_folder(), BUILTIN]


def available(dirs: list[Path] | None = None) -> list[BankMapping]:
    """Every mapping in `dirs` (default: `folders()`), in the order they are tried."""
    out: list[BankMapping] = []
    for folder in dirs if dirs is not None else folders():
        if folder.is_dir():
            for path in sorted(folder.glob("*.y*ml")):
                stat = path.stat()
                out.append(_cached(str(path), stat.st_mtime_ns, stat.st_size))
    return out


@functools.lru_cache(maxsize=256)
def _cached(path: str, mtime: int, size: int) -> BankMapping:
    return load(path)
