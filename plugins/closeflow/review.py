"""Review-queue items: what the pipeline could not decide, with a reason finance can act on."""

from __future__ import annotations

import json


def review_item(item_type: str, item_id: str, reason: str, run_key: str, **details: object) -> dict:
    """One raw.review_queue row, created by the step run `run_key`."""
    return {
        "item_type": item_type,
        "item_id": item_id,
        "reason": reason,
        "details": json.dumps(details, default=str, ensure_ascii=False),
        "created_run_id": run_key,
        "resolved_at": None,
    }
