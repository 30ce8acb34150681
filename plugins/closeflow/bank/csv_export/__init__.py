"""Bank CSV exports: a header row (after any preamble), one row per booked line, any language.

A file is read through a mapping (closeflow.bank.mappings: a YAML file per bank layout,
shipped or the user's own, or the one named with `--mapping`) when one names it, else by
the generic reader, which recognises the usual column names. Banks export CSV in their
locale, so nothing is assumed and everything is decided per file, from the whole file.
One module per step:
- `text`: the encoding, detected, never guessed (closeflow.bank.encoding), and the lines;
- `columns`: the column names each field goes by, in English, German, French, Spanish,
  Italian, Dutch and Chinese;
- `layout`: the header row (the first of the first 60 lines naming a booking date and an
  amount, or the one a mapping names), the delimiter, and which column holds what;
- `rows`: the rows below the header, and the total and skipped rows left out;
- `dates`: the dates, and their order (day or month first) decided from the whole file;
- `amounts`: decimal comma or point, and the direction of each line's money (signed, debit
  and credit columns, or a D/C marker column);
- `reader`: `sniff` and `parse`, which runs the steps and builds the statements (one per
  account and currency), checking a running-balance column row by row.
"""

from closeflow.bank.csv_export.reader import NAME, parse, sniff

__all__ = ["NAME", "parse", "sniff"]
