"""The month-end close report files: close_metrics.csv and close_metrics.html.

The CSV holds one `metric,value` row per close metric; the HTML shows the same table for a
person, rendered from an autoescaped template (a company name is data, never markup).
"""

from __future__ import annotations

import csv
from pathlib import Path

from closeflow.report import env

# Bookkeeping columns of a close_metrics row, not metrics.
NOT_METRICS = ("computed_at", "run_id")


def write_close_report(out_dir: Path, company_name: str, period: str, row: dict) -> dict[str, str]:
    """Write out_dir/close_metrics.csv and close_metrics.html for the close metrics `row`
    of `period`; return their paths as {"html": ..., "csv": ...}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics = [(k, v) for k, v in row.items() if k not in NOT_METRICS]
    csv_path, html_path = out_dir / "close_metrics.csv", out_dir / "close_metrics.html"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["metric", "value"])
        w.writerows(metrics)
    html = env.get_template("close_metrics.html.j2").render(
        company=company_name,
        period=period,
        metrics=[(k.replace("_", " "), v) for k, v in metrics],
    )
    html_path.write_text(html, encoding="utf-8")
    return {"html": str(html_path), "csv": str(csv_path)}
