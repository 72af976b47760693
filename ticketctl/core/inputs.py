"""Text that comes from outside (a command line, an environment variable): what
may be stored and shown as text, and how to name bytes that may not."""

from __future__ import annotations

from ticketctl.errors import BadInput
from ticketctl.i18n import _


def shown_bytes(text: str) -> str:
    r"""``text`` with the bytes that were not UTF-8 (a command line's surrogate
    escapes, ``\udcff``) written as ``\xff``, for naming them in a message."""
    return "".join(f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF else
                   f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


def check_text(name: str, value: str) -> str:
    """``value`` when it can be stored and shown as text; BadInput naming
    ``name`` (an option, an argument, a variable) when it holds a NUL or is not
    valid UTF-8 (bytes a terminal or a script passed in another encoding)."""
    if "\x00" in value:
        raise BadInput(_("{name} contains a NUL character").format(name=name))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(_("{name} is not valid UTF-8: {value}").format(name=name, value=f"'{shown_bytes(value)}'")) from None
    return value
