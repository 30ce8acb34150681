"""Bank statements: read a statement file, whatever its format, into checked rows.

`parse_statements(path)` detects the format from the content (formats.FORMATS: ISO 20022
camt.052/053/054, SWIFT MT940/MT942, OFX 1.x/2.x and QFX, BAI2, and bank CSV exports,
read through a bank mapping file where one names the layout) and returns one
`ParsedStatement` per statement in the file, each with its `bank_statements` row, its
`bank_lines` rows (Decimal amounts, money in positive, `datetime.date` dates,
deterministic ids, and a `line_key` that overlapping downloads of the same bank line
share) and warnings for a finance user. Anything unusable raises `StatementError` naming
file, line and problem.

Decisions on the real sample files (tests/closeflow/bank/ asserts each):
- A statement is rejected as a whole when one amount cannot be read (`12..34` in
  camt053_garbled_amount.xml and csv_garbled_amount.csv): a statement with a line left
  out would reconcile to the wrong balance, and guessing an amount is worse.
- camt053_duplicate_same_day.xml books two identical card payments (4.50 EUR, CITY
  COFFEE, same day, no bank reference). Both are kept, as lines :1 and :2 with distinct
  ids: the statement is the bank's record of what left the account, and buying two
  coffees on one day is ordinary; a real double booking is corrected by the bank with a
  reversal that will show up as its own line. Dropping one would make the account
  disagree with the bank. The statement carries a warning naming both lines, so a
  person can look, and since the file has no balances a second warning says that its
  completeness cannot be checked.
- Statements without balances (that file, every CSV without a running balance) are read
  with null opening/closing balances and that warning, instead of being rejected.
"""

from closeflow.bank.formats import (
    FORMATS,
    StatementFormat,
    detect_format,
    parse_statement,
    parse_statements,
    register,
)
from closeflow.bank.statement import (
    ParsedStatement,
    StatementError,
    lines_table,
    statements_table,
)

__all__ = [
    "FORMATS",
    "ParsedStatement",
    "StatementError",
    "StatementFormat",
    "detect_format",
    "lines_table",
    "parse_statement",
    "parse_statements",
    "register",
    "statements_table",
]
