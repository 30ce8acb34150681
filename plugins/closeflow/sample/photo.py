"""Pages as phone photos and turned scans, for the OCR tests and benchmarks.

`phone_photo` photographs the first page of a PDF with a phone: a 12 MP frame with the
sheet on a desk, keystone, off-white paper, light fall-off and optionally the phone's own
shadow, sent downscaled as JPEG at 72 dpi with an EXIF turn. `turned` turns a scan by a
multiple of 90 degrees (a page fed or shot sideways). Floats are fine here (pixels, never
money); the noise comes from a seeded generator, so the same seed gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageFilter


def render_pages(pdf: Path, dpi: int = 200) -> list[Image.Image]:
    """Every page of `pdf` as a clean grey image."""
    document = pdfium.PdfDocument(str(pdf))
    try:
        return [p.render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for p in document]
    finally:
        document.close()


def turned(image: Path, out: Path, degrees: int) -> Path:
    """`image` turned counter-clockwise by `degrees` (a page scanned or shot sideways)."""
    with Image.open(image) as im:
        dpi = im.info.get("dpi", (200, 200))
        im.rotate(degrees, expand=True).save(out, dpi=dpi)
    return out


def _perspective_coeffs(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list:
    """PIL PERSPECTIVE data mapping points of the output (`dst`) back to the input (`src`)."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    solution = np.linalg.solve(np.array(rows, dtype=np.float64), np.array(src).reshape(8))
    return solution.tolist()


ORIENTATION_TAG = 0x0112
EXIF_TURN_CLOCKWISE = 6  # "rotate 90 degrees clockwise to display"


def phone_photo(
    pdf: Path,
    out: Path,
    *,
    seed: int = 1,
    long_side: int = 2000,
    quality: int = 80,
    keystone: float = 0.06,
    shadow: float = 0.45,
    cast_shadow: float = 0.0,
    exif_turned: bool = True,
) -> Path:
    """The first page of `pdf` photographed with a phone, as a JPEG.

    A 12 MP frame (3024 x 4032) with the page on a desk: keystone (the camera tilted, the
    far edge narrower), off-white paper, light falling off into a shadow across the page,
    (and with `cast_shadow` the phone's own shadow darkening the right of the page by that
    share, its edge through the totals), a little focus blur and sensor noise, then
    downscaled to `long_side` pixels as phones
    and messengers do when sending, saved at JPEG `quality` with 72 dpi (a camera's
    meaningless default). With `exif_turned` the pixels are stored sideways with an EXIF
    orientation tag saying to turn them, as a phone held upright writes them.
    """
    rng = np.random.default_rng(seed)
    # drawn at 1.5x the size sent (the full 12 MP at most), then downscaled like a phone
    k = min(1.0, 1.5 * long_side / 4032)
    frame_w, frame_h = round(3024 * k), round(4032 * k)
    ph = 0.86 * frame_h
    page = render_pages(pdf, dpi=round(ph / 11.69))[0]
    pw = ph * page.width / page.height
    cx, top = frame_w / 2 + rng.uniform(-60, 60) * k, (frame_h - ph) / 2 + rng.uniform(-40, 40) * k
    j = lambda: rng.uniform(-25, 25) * k  # noqa: E731
    corners = [
        (cx - pw / 2 * (1 - keystone) + j(), top + j()),
        (cx + pw / 2 * (1 - keystone) + j(), top + j()),
        (cx + pw / 2 + j(), top + ph + j()),
        (cx - pw / 2 + j(), top + ph + j()),
    ]
    src = [(0, 0), (page.width, 0), (page.width, page.height), (0, page.height)]
    coeffs = _perspective_coeffs(src, corners)
    warped = page.transform((frame_w, frame_h), Image.Transform.PERSPECTIVE, coeffs,
                            Image.Resampling.BILINEAR, fillcolor=255)  # fmt: skip
    warped = warped.filter(ImageFilter.GaussianBlur(1.2 * k))  # focus
    mask = Image.new("L", page.size, 255).transform(
        (frame_w, frame_h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR
    )

    def smooth(values: np.ndarray) -> np.ndarray:  # a coarse field, enlarged to the frame
        return np.asarray(
            Image.fromarray(values.astype(np.float32)).resize((frame_w, frame_h), Image.BILINEAR)
        )

    g = np.asarray(warped, dtype=np.float32) / 255
    alpha = np.asarray(mask, dtype=np.float32) / 255
    yy, xx = np.mgrid[0 : frame_h // 32, 0 : frame_w // 32].astype(np.float32)
    t = xx / (frame_w // 32) * 0.6 + yy / (frame_h // 32) * 0.4  # light from the top left
    light = 1.05 - shadow * np.clip((t - 0.35) / 0.65, 0, 1) ** 1.5
    if cast_shadow:  # the phone's own shadow over the right of the page, soft-edged
        edge = xx / (frame_w // 32) + 0.25 * yy / (frame_h // 32) - 0.78
        light *= 1 - cast_shadow * np.clip(edge / 0.04 + 0.5, 0, 1)
    light = smooth(light)
    grain = smooth(1 + 0.08 * rng.standard_normal((frame_h // 64, frame_w // 64)))
    noise = rng.normal(0, 4, (frame_h, frame_w)).astype(np.float32)
    channels = []
    for paper, ink, desk in ((236, 38, 104), (230, 36, 86), (214, 44, 70)):
        sheet = ink + (paper - ink) * g
        channel = (sheet * alpha + desk * grain * (1 - alpha)) * light + noise
        channels.append(np.clip(channel, 0, 255).round().astype(np.uint8))
    image = Image.fromarray(np.dstack(channels), "RGB")
    if long_side < frame_h:
        image = image.resize(
            (round(frame_w * long_side / frame_h), long_side), Image.Resampling.BICUBIC
        )
    exif = Image.Exif()
    if exif_turned:
        image = image.rotate(90, expand=True)  # the sensor's landscape rows
        exif[ORIENTATION_TAG] = EXIF_TURN_CLOCKWISE
    image.save(out, format="JPEG", quality=quality, dpi=(72, 72), exif=exif.tobytes())
    return out
