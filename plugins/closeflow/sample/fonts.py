"""TrueType fonts for the rendered documents, registered once with reportlab.

DejaVu Sans for Latin text and WenQuanYi Zen Hei for Chinese. Embedding TrueType (not
the PDF base-14 fonts) gives every PDF a text layer with Unicode mappings, so the text
layer says exactly what the page shows.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

LATIN, LATIN_BOLD, CJK = "DejaVuSans", "DejaVuSans-Bold", "WenQuanYiZenHei"

_CANDIDATES: dict[str, tuple[tuple[str, int], ...]] = {
    LATIN: (("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),),
    LATIN_BOLD: (("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 0),),
    CJK: (
        ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
        ("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc", 0),
    ),
}


class FontMissing(RuntimeError):
    """A font the sample documents need is not installed."""


@cache
def register_fonts() -> None:
    """Register the three fonts; raise FontMissing naming the package to install."""
    for name, candidates in _CANDIDATES.items():
        for path, index in candidates:
            if Path(path).exists():
                pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
                break
        else:
            package = "fonts-wqy-zenhei" if name == CJK else "fonts-dejavu-core"
            raise FontMissing(f"font {name} not found (install the {package} package)")
