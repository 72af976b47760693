r"""Terminal cell widths: padding and truncating text by the columns it fills.

``len()`` counts code points, a terminal counts cells: 空调不制冷 is 5 code
points and 10 cells, ``é`` written as ``e`` + U+0301 is 2 code points and 1
cell. Every table that lines up user data (titles, names, departments) pads
with these functions, never with ``str.ljust`` or a format width. Stdlib only
(``unicodedata``), so the headless renderers use it without importing Rich.

The rules are Rich's and wcwidth's (a test compares all three over every
code point and a corpus), applied to *clusters*: a character that takes cells
with the zero-width ones that ride on it, which a cut never separates::

    "e\u0301"              e + combining acute                1 cell
    "空"                   East Asian Wide                     2 cells
    "，" "Ａ"              Fullwidth                           2 cells
    "❤\ufe0f"              narrow emoji + VS16                 2 cells
    "👨\u200d👩\u200d👧"   ZWJ sequence: the first one's width  2 cells
    "🇨🇳"                  two regional indicators             2 cells
    "\u200b" "\x1b"        zero-width characters, controls     0 cells

At the end, the punctuation between items a reader of each language expects
(:func:`join`, :func:`paren`): full-width in Chinese.

Ambiguous-width characters (``…``, ``·``, ``→``) count 1, as in Rich, which
Textual lays the dashboard out with. Python 3.11 ships Unicode 14 data: the
few hundred characters added since (outside the CJK and emoji blocks, which
count 2) count 1.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache

ELLIPSIS = "…"
ZWJ = "\u200d"
VS16 = "\ufe0f"

#: format characters (category Cf) that print: the soft hyphen and the prepended concatenation marks
_PRINTING_FORMAT = frozenset("\u00ad\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd")

#: narrow characters that an emoji presentation selector (VS16) widens to 2 cells
#: (Unicode emoji-variation-sequences.txt; the same table as Rich's and wcwidth's)
_VS16_WIDE_RANGES = """
23 2A 30-39 A9 AE 203C 2049 2122 2139 2194-2199 21A9-21AA 2328 23CF 23ED-23EF 23F1-23F2 23F8-23FA 24C2
25AA-25AB 25B6 25C0 25FB-25FC 2600-2604 260E 2611 2618 261D 2620 2622-2623 2626 262A 262E-262F 2638-263A 2640
2642 265F-2660 2663 2665-2666 2668 267B 267E 2692 2694-2697 2699 269B-269C 26A0 26A7 26B0-26B1 26C8 26CF 26D1
26D3 26E9 26F0-26F1 26F4 26F7-26F9 2702 2708-2709 270C-270D 270F 2712 2714 2716 271D 2721 2733-2734 2744 2747
2763-2764 27A1 2934-2935 2B05-2B07 1F170-1F171 1F17E-1F17F 1F321 1F324-1F32C 1F336 1F37D 1F396-1F397
1F399-1F39B 1F39E-1F39F 1F3CB-1F3CE 1F3D4-1F3DF 1F3F3 1F3F5 1F3F7 1F43F 1F441 1F4FD 1F549-1F54A 1F56F-1F570
1F573-1F579 1F587 1F58A-1F58D 1F590 1F5A5 1F5A8 1F5B1-1F5B2 1F5BC 1F5C2-1F5C4 1F5D1-1F5D3 1F5DC-1F5DE 1F5E1
1F5E3 1F5E8 1F5EF 1F5F3 1F5FA 1F6CB 1F6CD-1F6CF 1F6E0-1F6E5 1F6E9 1F6F0 1F6F3
"""


def _ranges(spec: str) -> frozenset[str]:
    out: set[str] = set()
    for part in spec.split():
        lo, _, hi = part.partition("-")
        out.update(map(chr, range(int(lo, 16), int(hi or lo, 16) + 1)))
    return frozenset(out)


_VS16_WIDE = _ranges(_VS16_WIDE_RANGES)


#: wide since Unicode 15/16 (Python 3.11's unicodedata is 14.0): trigrams, monograms, hexagrams, Tai Xuan Jing, counting rods
_WIDE_SINCE_14 = ((0x2630, 0x2637), (0x268A, 0x268F), (0x4DC0, 0x4DFF), (0x1D300, 0x1D356), (0x1D360, 0x1D376))
#: code points unassigned in the data Python ships that default to wide (UAX #11's CJK defaults and the emoji blocks)
_WIDE_UNASSIGNED = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x1F300, 0x1F64F), (0x1F900, 0x1F9FF),
                    (0x1FA70, 0x1FAFF), (0x20000, 0x2FFFD), (0x30000, 0x3FFFD))
#: Hangul fillers and the medial vowels and final consonants that join the syllable before them
_ZERO_HANGUL = ((0x1160, 0x11FF), (0x3164, 0x3164), (0xD7B0, 0xD7FF), (0xFFA0, 0xFFA0))


def _within(o: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= o <= hi for lo, hi in ranges)


@lru_cache(maxsize=4096)
def char_cells(ch: str) -> int:
    """The cells one code point takes on its own: 0, 1 or 2."""
    o = ord(ch)
    if 0x20 <= o < 0x7F:
        return 1
    if o < 0x20 or 0x7F <= o < 0xA0:
        return 0  # controls
    cat = unicodedata.category(ch)
    if cat in ("Mn", "Me", "Mc", "Zl", "Zp"):
        return 0  # combining marks, variation selectors, line and paragraph separators
    if cat == "Cf":
        return 1 if ch in _PRINTING_FORMAT else 0  # ZWSP, ZWJ, bidi marks, word joiner
    if cat == "Cn":  # unassigned here (unicodedata then says "F" for every one of them)
        return 2 if _within(o, _WIDE_UNASSIGNED) else 1
    if _within(o, _ZERO_HANGUL):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") or _within(o, _WIDE_SINCE_14) else 1


def _is_regional(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def _is_skin_tone(ch: str) -> bool:
    return "\U0001f3fb" <= ch <= "\U0001f3ff"


def clusters(s: str) -> Iterator[tuple[str, int]]:
    """``s`` cut where a cut cannot split what shows as one character, each
    piece with its cells: a character that takes cells with the zero-width
    ones after it, a ZWJ sequence whole, an emoji with its skin tone, a flag's
    two regional indicators. Zero-width characters with nothing before them
    are a piece of 0 cells."""
    start, width, i, n = 0, 0, 0, len(s)
    base = ""  # the last character that took cells in this piece, for VS16
    while i < n:
        ch = s[i]
        if ch == ZWJ:  # the next character joins this piece and adds nothing (Rich, wcwidth)
            i += 2
            continue
        if ch == VS16:
            if base in _VS16_WIDE:
                width += 1
            base = ""
            i += 1
            continue
        if width and _is_skin_tone(ch):  # modifies the emoji before it
            i += 1
            continue
        w = char_cells(ch)
        if w and i > start and not (width == 1 and _is_regional(ch) and base == s[i - 1] and _is_regional(base)):
            yield s[start:i], width
            start, width = i, 0
        if w:
            base = ch
            width += w
        i += 1
    if start < n:
        yield s[start:], width


def _simple(s: str) -> bool:
    """No character whose width depends on its neighbours (ZWJ, VS16, skin
    tones, regional indicators): each code point then counts on its own."""
    return ZWJ not in s and VS16 not in s and (not s or max(s) < "\U0001f1e6")


def cells(s: str) -> int:
    """The terminal cells ``s`` takes (East Asian Wide and Fullwidth 2,
    combining marks and zero-width characters 0, everything else 1)."""
    if s.isascii() and s.isprintable():
        return len(s)
    if _simple(s):
        return sum(map(char_cells, s))
    return sum(w for _, w in clusters(s))


def truncate(s: str, width: int, ellipsis: str = ELLIPSIS) -> str:
    """``s`` if it fits in ``width`` cells, else its longest head that fits
    with ``ellipsis`` after it (a wide character that would straddle the edge
    is left out whole, so the result may be one cell short of ``width``)."""
    return _truncate(s, width, ellipsis)[0]


def _truncate(s: str, width: int, ellipsis: str) -> tuple[str, int]:
    """:func:`truncate`, with the cells of what it returns."""
    if width <= 0:
        return "", 0
    n = cells(s)
    if n <= width:
        return s, n
    mark = 1 if ellipsis == ELLIPSIS else cells(ellipsis)
    room = width - mark
    if room < 0:
        return "", 0
    if s.isascii() and s.isprintable():  # the common case: a cell a character
        return s[:room] + ellipsis, width
    used = 0
    if _simple(s):  # a zero-width character after the last one kept stays with it
        for i, ch in enumerate(s):
            w = char_cells(ch)
            if used + w > room:
                return s[:i] + ellipsis, used + mark
            used += w
        return s + ellipsis, used + mark  # not reached: s is wider than room
    head = []
    for piece, w in clusters(s):
        if used + w > room:
            break
        head.append(piece)
        used += w
    return "".join(head) + ellipsis, used + mark


def ljust(s: str, width: int, fill: str = " ") -> str:
    """``s`` padded on the right to ``width`` cells (longer text is left as it is)."""
    return s + fill * max(width - cells(s), 0)


def rjust(s: str, width: int, fill: str = " ") -> str:
    """``s`` padded on the left to ``width`` cells (longer text is left as it is)."""
    return fill * max(width - cells(s), 0) + s


def fit(s: str, width: int, align: str = "left", ellipsis: str = ELLIPSIS) -> str:
    """``s`` in exactly ``width`` cells: truncated with ``ellipsis`` when it
    is wider (never splitting a wide character; ``""`` just cuts), then
    padded; ``align`` is ``left``, ``right`` or ``center``. Raises ValueError
    on another ``align``."""
    cut, n = _truncate(s, width, ellipsis)
    gap = width - n
    if align == "left":
        return cut + " " * gap
    if align == "right":
        return " " * gap + cut
    if align == "center":
        return " " * (gap // 2) + cut + " " * (gap - gap // 2)
    raise ValueError(f"align must be left, right or center, not {align!r}")


# -- punctuation between items ------------------------------------------------------------------

#: how :func:`join` separates items, (English, Chinese): a list of like things, clauses of a sentence, whole statements
SEPARATORS = {"list": (", ", "、"), "clause": (", ", "，"), "statement": ("; ", "；")}


def join(items: Iterable[str], how: str, lang: str) -> str:
    """``items`` joined for a reader of ``lang``: ``a, b`` / ``a; b`` in English;
    full-width in Chinese: ``a、b`` (``list``), ``a，b`` (``clause``), ``a；b``
    (``statement``). ``render.text.join`` is this in the current language."""
    en, zh = SEPARATORS[how]
    return (zh if lang == "zh_CN" else en).join(items)


def paren(text: str, lang: str) -> str:
    """An aside: `` (text)`` in English, ``（text）`` in Chinese."""
    return f"（{text}）" if lang == "zh_CN" else f" ({text})"


def after(text: str) -> str:
    """``text`` put after what comes before it: a space first, but for text that opens
    with a full-width mark (a translation's ``（证据 …）``), which needs none."""
    return text if text[:1] in "（「『《【，。、；：" else " " + text


def pair(name: str, value: object, eq: str, lang: str) -> str:
    """A field and its value: ``name{eq}value`` in English, ``name：value`` in Chinese."""
    return f"{name}：{value}" if lang == "zh_CN" else f"{name}{eq}{value}"
