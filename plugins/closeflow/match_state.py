"""Which matches stand: the one rule every reader of raw.matches applies.

raw.matches is written night by night and never changed by a later night (closeflow's
window ownership). A match that a person undoes (`closeflow match undo`) is not deleted:
the night the undo is applied writes a row of its own for it, status `undone`, with the
same match id and the matched amount and difference negated, and reverses its payment
entry (source type `match_undo`). So:

- what a match pays is the sum of its rows (an undone match pays nothing): sums over
  `matched_amount` need no special case;
- a match *stands* (settles its item, explains its bank line) when it is `auto` or
  `confirmed` and no `undone` row exists for its match id: `standing()` is that rule,
  as SQL, for whichever query needs it.
"""

from __future__ import annotations

from enum import StrEnum


class MatchStatus(StrEnum):
    AUTO = "auto"  # the night matched it on its own
    SUGGESTED = "suggested"  # below the auto-confirm score: waits for a person
    CONFIRMED = "confirmed"  # a person confirmed it (closeflow match confirm)
    UNDONE = "undone"  # a person undid it (closeflow match undo): cancels its match


SETTLING = (MatchStatus.AUTO, MatchStatus.CONFIRMED)


def standing(alias: str, raw: str, undone_where: str = "TRUE") -> str:
    """SQL true when match row `alias` stands: auto or confirmed, not undone by an
    `undone` row that satisfies `undone_where` (over alias `u`; e.g. a run cut-off)."""
    settling = ", ".join(f"'{s}'" for s in SETTLING)
    return (
        f"(COALESCE({alias}.status, '') IN ({settling}) AND NOT EXISTS ("
        f"SELECT 1 FROM {raw}.matches u WHERE u.match_id = {alias}.match_id "
        f"AND u.status = '{MatchStatus.UNDONE}' AND ({undone_where})))"
    )
