"""Review-queue items: what the pipeline could not decide, with a reason finance can act on."""

from __future__ import annotations

import json
import re

# an object's repr, as some libraries put in their messages: "<_io.BytesIO object at
# 0x7f…>" differs on every run, so a reason holding it would make re-runs differ
_OBJECT_REPR = re.compile(r"<([\w.]+) object at 0x[0-9a-fA-F]+>")
_ADDRESS = re.compile(r"\s+at 0x[0-9a-fA-F]+")


def plain_reason(text: str) -> str:
    """`text` without what changes from run to run (object reprs, memory addresses)."""
    text = _OBJECT_REPR.sub(lambda m: f"<{m.group(1).rsplit('.', 1)[-1]}>", text)
    return _ADDRESS.sub("", text)


def review_item(item_type: str, item_id: str, reason: str, run_key: str, **details: object) -> dict:
    """One raw.review_queue row, created by the step run `run_key`."""
    return {
        "item_type": item_type,
        "item_id": item_id,
        "reason": plain_reason(reason),
        "details": json.dumps(details, default=str, ensure_ascii=False),
        "created_run_id": run_key,
        "resolved_at": None,
    }
