"""The font for a certificate's text that the PDF core fonts (Latin-1) lack:
Chinese labels or data. :func:`font_for` looks in ``proof.font``, the
Noto Sans CJK package that ``pip install ticketctl`` installs (``noto-cjk[sans]``,
a dependency: see pyproject.toml for why), then the system's CJK fonts, and
takes the first file that has every character; in a collection (``.ttc``), its
Simplified Chinese face. fontTools (fpdf2's dependency) is imported when a font
is looked at.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ticketctl.errors import Refused
from ticketctl.i18n import _

#: CJK fonts where systems put them, after ``proof.font`` and the installed ``noto-cjk`` package;
#: ``{windir}`` is ``%WINDIR%`` (those are tried on Windows only). A file that lacks a character printed is passed over.
SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian, Ubuntu: fonts-noto-cjk
    "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",  # Fedora
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # Debian, Ubuntu: fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",  # macOS
    "/System/Library/Fonts/STHeiti Light.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    "{windir}/Fonts/msyh.ttc",  # Windows: Microsoft YaHei
    "{windir}/Fonts/simhei.ttf",
    "{windir}/Fonts/simsun.ttc",
)
#: a Simplified Chinese face of a collection (Noto's "SC", PingFang SC, YaHei, ...), preferred to the others
_SIMPLIFIED = re.compile(r"\b(SC|GB|CN|Hans)\b|YaHei|SimHei|SimSun|Micro ?Hei|Zen ?Hei|Heiti", re.I)
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff]")


def is_latin1(text: str) -> bool:
    return all(ord(c) < 0x100 for c in text)


@dataclass(frozen=True)
class Font:
    """A font file for the text the core fonts lack, and the face of it to use
    (a collection, ``.ttc``, holds several)."""

    path: Path
    face: int = 0
    name: str = ""


def font_for(text: str, configured: str = "", environ: Mapping[str, str] | None = None) -> Font | None:
    """The font to print ``text`` with: None when the PDF core fonts can (all
    Latin-1), else the first font that has every character of it, looked for in
    this order:

    1. ``configured`` (``proof.font``) alone, when set: a file that is no font
       or lacks a character is refused, naming it;
    2. the files in ``TICKETCTL_FONT_PATH`` (``os.pathsep``-separated) instead
       of 3-5 when it is set (empty: none; tests hide the machine's fonts so);
    3. the ``noto-cjk[sans]`` package (Noto Sans CJK), a dependency of ticketctl;
    4. :data:`SYSTEM_FONTS`;
    5. ``fc-match :lang=zh-cn``, when fontconfig is installed.

    In a collection the Simplified Chinese face is preferred. Refused, with one
    line saying what to install, when no font has every character."""
    needed = _needed(text)
    if not needed:
        return None
    env = os.environ if environ is None else environ
    best: tuple[Font, set[str]] | None = None
    for source, path in _candidates(configured, env):
        try:
            font, missing = _best_face(path, needed)
        except Exception:  # fontTools raises many kinds for a file that is not a font, or a damaged one
            if source == "proof.font":
                raise Refused(_("proof.font {path!r} is not a font file ticketctl can read").format(path=str(path))) from None
            continue
        if not missing:
            return font
        if source == "proof.font":
            raise Refused(_("proof.font {path!r} has no glyphs for {chars} on this certificate").format(
                path=str(path), chars=_show(missing, text)))
        if best is None or len(missing) < len(best[1]):
            best = (font, missing)
    missing = best[1] if best else needed
    if any(_CJK.match(c) for c in missing):
        raise Refused(_("the certificate has Chinese text and no CJK font was found: reinstall ticketctl (pip install"
                        " --force-reinstall noto-cjk-sans-otc), install fonts-noto-cjk, or set proof.font"))
    raise Refused(_("no font here has glyphs for {chars} on this certificate: set proof.font to a font that has them")
                  .format(chars=_show(missing, text)))


def _needed(text: str) -> set[str]:
    """The characters a font must have for ``text``; empty when the core fonts print it all."""
    if is_latin1(text):
        return set()
    return {c for c in text if not c.isspace() and unicodedata.category(c)[0] != "C"}


def _show(chars: set[str], text: str) -> str:
    """Up to ten of ``chars``, in the order ``text`` has them."""
    seen = [c for c in dict.fromkeys(text) if c in chars]
    return " ".join(seen[:10]) + (" ..." if len(seen) > 10 else "")


def _candidates(configured: str, environ: Mapping[str, str]) -> Iterator[tuple[str, Path]]:
    """(source, path) of each font file to try, in :func:`font_for`'s order."""
    if configured:
        yield "proof.font", Path(configured).expanduser()
        return
    listed = environ.get("TICKETCTL_FONT_PATH")
    if listed is not None:
        paths = [Path(p) for p in listed.split(os.pathsep) if p]
    else:
        windir = environ.get("WINDIR") or environ.get("SystemRoot")  # set on Windows only
        system = [Path(s.format(windir=windir)) for s in SYSTEM_FONTS if windir or "{windir}" not in s]
        paths = [p for p in (_package_font(), *system) if p]
    for p in paths:
        if p.is_file():
            yield "search", p
    if listed is None:
        fc = _fc_match()
        if fc is not None and fc.is_file():
            yield "fc-match", fc


def _package_font() -> Path | None:
    """Noto Sans CJK from ``noto-cjk[sans]`` (installed with ticketctl), when it is there."""
    try:
        from noto_cjk import otc_path

        return Path(otc_path("sans"))
    except (ImportError, RuntimeError, OSError):  # noto_cjk.FontNotInstalled is a RuntimeError
        return None


def _fc_match() -> Path | None:
    """fontconfig's best font for Simplified Chinese (any font at all when it has none)."""
    import shutil
    import subprocess

    exe = shutil.which("fc-match")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


def _best_face(path: Path, needed: set[str]) -> tuple[Font, set[str]]:
    """The face of ``path`` to use and the characters of ``needed`` it lacks
    (none when it has them all): the first complete one, Simplified Chinese and
    regular proportional faces tried first; else the one lacking the fewest."""
    from fontTools.ttLib import TTCollection, TTFont

    with open(path, "rb") as f:
        collection = f.read(4) == b"ttcf"
    holder = TTCollection(str(path), lazy=True) if collection else None
    faces = holder.fonts if holder is not None else [TTFont(str(path), lazy=True)]
    try:
        names = [(f["name"].getDebugName(16) or f["name"].getDebugName(1) or "",
                  f["name"].getDebugName(17) or f["name"].getDebugName(2) or "") for f in faces]
        order = sorted(range(len(faces)), key=lambda i: (not _SIMPLIFIED.search(names[i][0]),
                                                         "mono" in names[i][0].lower(), names[i][1].lower() != "regular"))
        best: tuple[Font, set[str]] | None = None
        for i in order:
            cmap = faces[i].getBestCmap() or {}
            missing = {c for c in needed if ord(c) not in cmap}
            font = Font(path, i if collection else 0, " ".join(n for n in names[i] if n))
            if not missing:
                return font, missing
            if best is None or len(missing) < len(best[1]):
                best = (font, missing)
        if best is None:
            raise ValueError(f"{path} holds no font")
        return best
    finally:
        for f in faces:
            f.close()
