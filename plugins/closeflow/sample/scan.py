"""Turn a rendered PDF into a plausible office scan (PNG or JPEG).

The page is rasterised with pdfium at 150-300 dpi in grayscale, then degraded like a
cheap scanner: slightly grey paper and ink, a small skew (up to 1.5 degrees), a little
blur and gaussian sensor noise. Floats are fine here (pixels, never money); the noise
comes from its own seeded generator, so the same seed gives the same bytes.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageFilter

ImageFormat = Literal["png", "jpeg"]


@dataclass(frozen=True)
class ScanSettings:
    image_format: ImageFormat
    dpi: int
    angle: float  # degrees, counter-clockwise
    blur: float  # gaussian radius in pixels
    noise: float  # standard deviation in grey levels
    paper: int  # grey level of the paper
    ink: int  # grey level of full ink
    quality: int  # JPEG quality


def choose_settings(rng: random.Random, image_format: ImageFormat) -> ScanSettings:
    """JPEG mostly at 200 dpi, one in ten at 300; PNG (noise compresses badly) at 150-200
    dpi with less noise."""
    if image_format == "png":
        dpi, noise = rng.choice((150, 150, 200)), rng.uniform(2.5, 6.0)
    else:
        dpi, noise = (
            rng.choice((150, 200, 200, 200, 200, 200, 200, 200, 200, 300)),
            rng.uniform(4, 10),
        )
    return ScanSettings(
        image_format=image_format,
        dpi=dpi,
        angle=round(rng.uniform(-1.5, 1.5), 2),
        blur=round(rng.uniform(0.3, 0.8) * dpi / 200, 2),
        noise=round(noise, 1),
        paper=rng.randint(228, 248),
        ink=rng.randint(15, 55),
        quality=rng.randint(70, 90),
    )


def rasterize(pdf: bytes, dpi: int) -> Image.Image:
    """The first page of `pdf` as an 8-bit grayscale image."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        bitmap = page.render(scale=dpi / 72, grayscale=True, may_draw_forms=False)
        image = bitmap.to_pil().convert("L")
        page.close()
    finally:
        document.close()
    return image


def degrade(image: Image.Image, settings: ScanSettings, noise_seed: int) -> Image.Image:
    """Skew, blur, paper/ink levels and noise."""
    image = image.rotate(
        settings.angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255
    )
    image = image.filter(ImageFilter.GaussianBlur(settings.blur))
    pixels = np.asarray(image, dtype=np.float32)
    pixels = settings.ink + pixels * ((settings.paper - settings.ink) / 255.0)
    noise = np.random.default_rng(noise_seed).normal(0.0, settings.noise, pixels.shape)
    pixels = np.clip(pixels + noise.astype(np.float32), 0, 255).round().astype(np.uint8)
    return Image.fromarray(pixels)  # 2-D uint8: mode "L"


def encode(image: Image.Image, settings: ScanSettings) -> bytes:
    """PNG (zlib level 6) or JPEG at the chosen quality, with the dpi recorded."""
    buffer = io.BytesIO()
    dpi = (settings.dpi, settings.dpi)
    if settings.image_format == "png":
        image.save(buffer, format="PNG", dpi=dpi, compress_level=6)
    else:
        image.save(buffer, format="JPEG", dpi=dpi, quality=settings.quality, optimize=False)
    return buffer.getvalue()


def scan_pdf(pdf: bytes, settings: ScanSettings, noise_seed: int) -> bytes:
    """The scanned image file of the first page of `pdf`."""
    return encode(degrade(rasterize(pdf, settings.dpi), settings, noise_seed), settings)


def scan_document(pdf_path: Path, out: Path, seed: int, dpi: int = 200) -> Path:
    """Every page of the PDF at `pdf_path` at `dpi`, degraded like an office scan (settings
    drawn as `choose_settings` draws a PNG's, blur scaled to `dpi`), written into the folder
    `out`: one page as a PNG, more as a multi-page TIFF. The same seed, the same bytes."""
    rng = random.Random(f"{seed}:{pdf_path.stem}")
    settings = choose_settings(rng, "png")
    settings = replace(settings, dpi=dpi, blur=round(settings.blur * dpi / settings.dpi, 2))
    document = pdfium.PdfDocument(str(pdf_path))
    pages = []
    try:
        for n in range(len(document)):
            page = document[n]
            bitmap = page.render(scale=dpi / 72, grayscale=True, may_draw_forms=False)
            image = bitmap.to_pil().convert("L")
            page.close()
            pages.append(degrade(image, settings, rng.randrange(2**31) + n))
    finally:
        document.close()
    if len(pages) == 1:
        target = out / f"{pdf_path.stem}.png"
        target.write_bytes(encode(pages[0], settings))
    else:
        target = out / f"{pdf_path.stem}.tif"
        buffer = io.BytesIO()
        pages[0].save(
            buffer,
            "TIFF",
            save_all=True,
            append_images=pages[1:],
            dpi=(dpi, dpi),
            compression="tiff_lzw",
        )
        target.write_bytes(buffer.getvalue())
    return target


def office_scan(pdf: Path, out: Path, *, dpi: int = 200, angle: float = 0.8, seed: int = 1) -> Path:
    """The first page of `pdf` as a degraded office scan (PNG or JPEG by `out`'s suffix),
    with fixed settings: the ocr tests' and bench/ocr_languages.py's scan."""
    document = pdfium.PdfDocument(str(pdf))
    image = document[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    document.close()
    image = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    pixels = np.asarray(image, dtype=np.float32) * (235 - 30) / 255 + 30
    pixels += np.random.default_rng(seed).normal(0, 6, pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8))
    fmt = "JPEG" if out.suffix.lower() in (".jpg", ".jpeg") else "PNG"
    image.save(out, format=fmt, dpi=(dpi, dpi), **({"quality": 85} if fmt == "JPEG" else {}))
    return out
