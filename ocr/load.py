"""Loading an input file: what it really is (from its bytes) and whether it can be opened.

The extension a mail gateway or scanner gave a file proves nothing, so the media type
comes from the content (magic bytes). Anything that cannot be read safely raises
`Unreadable` with a reason a finance user understands; the caller quarantines the file.
XML content is recognised too (an e-invoice sent as a bare file, read by ocr.einvoice):
it never goes on to the page reading, so it is not among the SUPPORTED types.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
XML = "application/xml"
SUPPORTED = (PDF, PNG, JPEG, TIFF)

MAX_IMAGE_PIXELS = 60_000_000  # an A4 page is ~9M pixels at 300 dpi, ~35M at 600 dpi
MAX_PAGES = 50
EXIF_ORIENTATION = 0x0112  # the camera's turn (1: upright)


class Unreadable(Exception):
    """The file cannot be read; `reason` says why in words for the finance team."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class InputFile:
    path: Path
    data: bytes
    sha256: str
    media_type: str  # sniffed; "application/octet-stream" when unknown

    @property
    def size_bytes(self) -> int:
        return len(self.data)


def sniff(data: bytes) -> str | None:
    """The media type of `data` from its first bytes, or None if not a supported kind."""
    head = data[:1024]
    if b"%PDF-" in head:  # the header may follow some junk, as readers allow
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return TIFF
    if _XML_START.match(_text_head(head)):
        return XML
    return None


# An XML document starts (after a byte-order mark and white space) with its declaration,
# a comment, a DOCTYPE or its root element; an HTML page is not taken for one.
_XML_START = re.compile(
    r"\s*<(?:\?xml[\s?]|!--|!DOCTYPE\s+(?!(?i:html)\b)|(?!(?i:html)\b)[A-Za-z_][\w.:\-]*[\s/>])"
)


def _text_head(head: bytes) -> str:
    """The first bytes as text, by their byte-order mark (UTF-8 or UTF-16), else as bytes."""
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, "ignore")
    if head.startswith(b"<\x00"):
        return head.decode("utf-16-le", "ignore")
    if head.startswith(b"\x00<"):
        return head.decode("utf-16-be", "ignore")
    return head.decode("latin-1")


_KNOWN_OTHER = [
    (b"PK\x03\x04", "a ZIP archive or Office document"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"RIFF", "a WEBP image or other RIFF file"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"<?xml", "an XML file"),
    (b"<!DOCTYPE html", "an HTML page"),
    (b"<html", "an HTML page"),
]


def describe(data: bytes) -> str:
    """What an unsupported file looks like, in a few words."""
    for magic, what in _KNOWN_OTHER:
        if data.startswith(magic):
            return what
    sample = data[:2048]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
        if printable >= 0.95 * len(text):
            return "plain text"
    return "unrecognised binary content"


def read_input(path: Path | str) -> InputFile:
    """Read `path` and sniff its type. Raises OSError only if the file cannot be read."""
    path = Path(path)
    data = path.read_bytes()
    media = sniff(data) or "application/octet-stream"
    return InputFile(path, data, hashlib.sha256(data).hexdigest(), media)


def check_supported(file: InputFile) -> None:
    """Raise Unreadable for an empty file or one that is not a PDF, PNG, JPEG or TIFF."""
    if not file.data:
        raise Unreadable("the file is empty (0 bytes)")
    if file.media_type not in SUPPORTED:
        named = f", named {file.path.suffix}" if file.path.suffix else ""
        raise Unreadable(
            f"not a supported document type ({describe(file.data)}{named}); "
            "send a PDF, PNG, JPEG or TIFF"
        )


def open_pdf(data: bytes) -> pdfium.PdfDocument:
    """Open a PDF, or raise Unreadable if it is damaged, protected, empty or too long."""
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise Unreadable(
                "the PDF is password-protected; ask the supplier for an unprotected copy"
            ) from exc
        raise Unreadable("the PDF is damaged and cannot be opened") from exc
    pages = len(pdf)
    if pages == 0:
        pdf.close()
        raise Unreadable("the PDF is damaged and cannot be opened (it has no pages)")
    if pages > MAX_PAGES:
        pdf.close()
        raise Unreadable(
            f"the PDF has {pages} pages; documents over {MAX_PAGES} pages are not read "
            "automatically"
        )
    return pdf


def _check_size(image: Image.Image) -> None:
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise Unreadable(
            f"the image is too large to read safely ({width} x {height} pixels, limit "
            f"{MAX_IMAGE_PIXELS // 1_000_000} million)"
        )


def _flatten(image: Image.Image, alone: bool = False) -> Image.Image:
    """Grey image with transparency composited on white, camera rotation applied.

    `alone`: `image` is the file's only frame, so an upright grey one is returned as it
    is rather than copied (two copies of a page cost ~2 ms; a multi-page file's frames
    are one object, reloaded frame by frame, so each is copied)."""
    if image.getexif().get(EXIF_ORIENTATION, 1) != 1:
        image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image)
    if image.mode == "L" and alone:
        return image
    return image.convert("L")


def open_images(data: bytes) -> Iterator[tuple[Image.Image, int | None]]:
    """The pages of a PNG, JPEG or (multi-page) TIFF as grey images, with their dpi.

    Raises Unreadable for a damaged image, a decompression bomb or too many pages.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            _check_size(image)
            frames = getattr(image, "n_frames", 1)
            if frames > MAX_PAGES:
                raise Unreadable(
                    f"the image file has {frames} pages; files over {MAX_PAGES} pages are "
                    "not read automatically"
                )
            for frame in ImageSequence.Iterator(image):
                _check_size(frame)
                frame.load()
                dpi = frame.info.get("dpi")
                dpi = round(float(dpi[0])) if dpi and dpi[0] else None
                yield _flatten(frame, frames == 1), (dpi if dpi and 50 <= dpi <= 1200 else None)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Unreadable(
            "the image is too large to read safely (its pixel count is far beyond any page "
            "scan; it may be a decompression bomb)"
        ) from exc
    except Unreadable:
        raise
    except UnidentifiedImageError as exc:
        raise Unreadable("the image is damaged or not an image format closeflow reads") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # PIL's messages can carry an object's repr ("<_io.BytesIO object at 0x…>"),
        # which differs on every run: keep the words, drop the address
        detail = re.sub(r"\s*<[^<>]* at 0x[0-9a-fA-F]+>", "", str(exc)).strip()
        raise Unreadable(f"the image is damaged and cannot be read ({detail})") from exc
