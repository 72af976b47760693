"""Regenerate the evidence photos of tests/data (see README.md there).

    .venv/bin/python tests/data/make_photos.py

Each photo is a small JPEG drawn with Pillow, with the EXIF capture time the
tests rely on written into the Exif IFD (DateTimeOriginal, and for one of them
OffsetTimeOriginal). Nothing here comes from a real camera.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
EXIF_IFD, DATETIME_ORIGINAL, OFFSET_ORIGINAL = 0x8769, 0x9003, 0x9011

PHOTOS = {
    # name: (DateTimeOriginal, OffsetTimeOriginal, colour)
    "relay_1004.jpg": ("2026:03:02 10:04:00", None, (200, 60, 40)),  # no offset: read in the calendar's zone (UTC)
    "panel_1102_berlin.jpg": ("2026:03:02 11:02:30", "+01:00", (40, 120, 200)),  # 10:02:30 UTC
    "gauge_0900.jpg": ("2026:03:02 09:00:00", None, (60, 160, 60)),
    "no_exif.jpg": (None, None, (120, 120, 120)),
}


def make(name: str, taken: str | None, offset: str | None, colour: tuple[int, int, int]) -> None:
    im = Image.new("RGB", (96, 64), colour)
    d = ImageDraw.Draw(im)
    d.rectangle((8, 8, 88, 56), outline=(255, 255, 255), width=2)
    d.text((14, 26), name.split("_")[0], fill=(255, 255, 255))
    exif = Image.Exif()
    if taken:
        sub = exif.get_ifd(EXIF_IFD)
        sub[DATETIME_ORIGINAL] = taken
        if offset:
            sub[OFFSET_ORIGINAL] = offset
    im.save(HERE / name, "JPEG", quality=80, exif=exif)


if __name__ == "__main__":
    for n, (t, o, c) in PHOTOS.items():
        make(n, t, o, c)
