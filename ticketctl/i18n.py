"""Messages in the user's language: English and Simplified Chinese.

Every user-facing string goes through :func:`_` (or :func:`ngettext`), looked up
in the compiled gettext catalog ``locale/<lang>/LC_MESSAGES/ticketctl.mo`` that
ships in the wheel (``tools/i18n.py`` extracts and compiles the catalogs with
Babel; ``tests/test_i18n.py`` fails when a message has no translation or the
catalog is stale against the code). English is the msgid itself, so English
needs no catalog and costs nothing.

The language of one invocation is chosen once, by :func:`choose`:

1. ``lang`` in the config file (``ticketctl config set lang zh_CN``),
2. else ``TICKETCTL_LANG``,
3. else the locale: ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` (POSIX order),
4. else English.

A tag ticketctl has no catalog for (``fr_FR``, ``C``, ``POSIX``) is English.
JSON output is never translated: its keys and values are a contract with scripts.

Strings made at import time (class attributes, module constants) are marked
with :func:`N_` and translated with :func:`_` where they are shown, so one
process can serve two languages (the server answers each customer in the
language of their browser, :func:`translator`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

DOMAIN = "ticketctl"
LOCALEDIR = Path(__file__).parent / "locale"
#: the languages ticketctl speaks; the first is the source language (the msgids)
LANGUAGES = ("en", "zh_CN")



class Translations(Protocol):
    """What ticketctl asks of a catalog (``gettext.GNUTranslations`` has it)."""

    def gettext(self, message: str) -> str: ...

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str: ...


class _Source:
    """The source language: the msgids themselves (no catalog, no ``gettext`` import)."""

    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return msgid1 if n == 1 else msgid2


_current = "en"
_t: Translations = _Source()
_cache: dict[str, Translations] = {}


def _(message: str) -> str:
    """``message`` in the current language (itself when untranslated)."""
    return _t.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the current language."""
    return _t.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it now: for strings
    made at import time, translated with :func:`_` where they are shown."""
    return message


def normalize(tag: str | None) -> str | None:
    """The catalog language for a locale tag, or None when it names none.

    ``zh_CN.UTF-8``, ``zh-CN``, ``zh``, ``zh_Hans``, ``zh_SG`` -> ``zh_CN``;
    ``en_US.UTF-8``, ``C``, ``POSIX`` -> ``en``; an empty tag -> None (look
    further); any other language -> ``en`` (ticketctl has no catalog for it).
    """
    if not tag:
        return None
    base = tag.split(".", 1)[0].split("@", 1)[0].replace("-", "_").strip()
    if not base:
        return None
    lang = base.split("_", 1)[0].lower()
    if lang == "zh":
        # Traditional-script regions (TW, HK, MO, Hant) fall back to Simplified too:
        # closer to readable than English for those teams, and it is what we have.
        return "zh_CN"
    return "en"


def choose(config_lang: str | None, environ: Mapping[str, str]) -> str:
    """The language of one invocation (see the module's docstring for the order)."""
    for tag in (config_lang, environ.get("TICKETCTL_LANG")):
        lang = normalize(tag)
        if lang:
            return lang
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(var):  # POSIX: the first one set decides, even "C"
            return normalize(environ[var]) or "en"
    return "en"


def translator(lang: str) -> Translations:
    """The catalog of ``lang`` (a :data:`LANGUAGES` entry), loaded once per process."""
    if lang not in _cache:
        if lang == LANGUAGES[0]:
            _cache[lang] = _Source()
        else:
            import gettext

            _cache[lang] = gettext.translation(DOMAIN, LOCALEDIR, languages=[lang], fallback=True)
    return _cache[lang]


def use(lang: str) -> None:
    """Speak ``lang`` from now on in this process: ticketctl's own messages and
    Click's and Typer's (usage errors, "Options", "Show this message and exit.")."""
    global _current, _t
    _current = lang if lang in LANGUAGES else LANGUAGES[0]
    _t = translator(_current)
    # Click and Typer call gettext.gettext on the global domain; point the names
    # they imported (`from gettext import gettext as _`) at our catalog instead,
    # which also carries their messages.
    for name in ("click.core", "click.exceptions", "click.parser", "click.types", "click.formatting",
                 "click.decorators", "click.termui", "click.utils", "typer.core", "typer.rich_utils"):
        mod = sys.modules.get(name)
        if mod is not None:
            if hasattr(mod, "_"):
                mod._ = _t.gettext  # type: ignore[attr-defined]
            if hasattr(mod, "ngettext"):
                mod.ngettext = _t.ngettext  # type: ignore[attr-defined]
    _cell_aware_help()


def _cell_aware_help() -> None:
    """Make Click measure help text in terminal cells, not code points, so a
    Chinese paragraph wraps at the terminal's width (a CJK character takes two
    cells; Click would fill a line with twice as many cells as it has) and the
    option column lines up. Click routes every width through ``term_len`` and
    cuts long words with ``_truncate_visible``; both are replaced here."""
    formatting = sys.modules.get("click.formatting")
    if formatting is None:
        return
    import click._textwrap as textwrap_mod  # Click imports it only when it first wraps

    if getattr(textwrap_mod, "_ticketctl_cells", False):
        return
    from click._compat import strip_ansi

    from ticketctl.cells import cells, char_cells

    def term_len(x: str) -> int:
        return cells(strip_ansi(x))

    plain_truncate = textwrap_mod._truncate_visible  # type: ignore[attr-defined]

    def truncate_visible(text: str, n: int) -> str:
        """The longest head of ``text`` within ``n`` cells (at least one character)."""
        if "\x1b" in text:  # styled text: Click's own cut keeps escape sequences whole
            return str(plain_truncate(text, n))
        used = 0
        for i, ch in enumerate(text):
            used += char_cells(ch)
            if used > n:
                return text[: max(i, 1)]
        return text

    wide = re.compile(r"([^\x00-\x7f])")
    plain_split = textwrap_mod.TextWrapper._split

    def split(self: Any, text: str) -> list[str]:
        """Click's chunks, each non-ASCII character a chunk of its own: Chinese has no
        spaces, so a line may break between any two characters, never inside a name;
        then the kinsoku rule (:func:`kinsoku`)."""
        out: list[str] = []
        for chunk in plain_split(self, text):
            out.extend([chunk] if chunk.isascii() else [p for p in wide.split(chunk) if p])
        return kinsoku(out)

    textwrap_mod.TextWrapper._split = split  # type: ignore[method-assign]
    textwrap_mod.term_len = term_len  # type: ignore[attr-defined]
    textwrap_mod._truncate_visible = truncate_visible  # type: ignore[attr-defined]
    formatting.term_len = term_len  # type: ignore[attr-defined]
    textwrap_mod._ticketctl_cells = True  # type: ignore[attr-defined]


#: marks a line may not start with (they close or end what is before them); ASCII brackets too,
#: as in Click's ``[必填]``
CLOSING = frozenset("，。、；：？！）」』》〉】〕”’…)]}")
#: marks a line may not end with (they open what is after them)
OPENING = frozenset("（「『《〈【〔“‘([{")


def kinsoku(chunks: list[str]) -> list[str]:
    """Chunks of text to wrap (a wrapper breaks a line only between two), glued
    where Chinese typography allows no break: a closing mark (，。、；：）」…) to
    what is before it, an opening mark (（「《…) to what is after it, so no line
    starts with a closing mark or ends with an opening one. A closing mark rides
    on the line before when it fits there, else the character before it comes
    down with it (the wrapper never makes a line wider than its width)."""
    out: list[str] = []
    pending = ""  # opening marks waiting for what they open
    for chunk in chunks:
        if chunk[0] in CLOSING and out and not pending:
            glue = len(out)  # onto the last chunk that is not a space (with the spaces between)
            while glue > 0 and out[glue - 1].isspace():
                glue -= 1
            if glue:
                out[glue - 1:] = ["".join(out[glue - 1:]) + chunk]
                continue
        if chunk[-1] in OPENING or (pending and chunk.isspace()):
            pending += chunk
            continue
        out.append(pending + chunk)
        pending = ""
    if pending:
        out.append(pending)
    return out


def localize(text: str, lang: str | None = None, value: Callable[[str, str], str] | None = None) -> str:
    """An English message that was stored or sent as text (a refusal the server
    recorded, an escalation in an event) in ``lang`` (default: the current
    language): the catalog message it was made from, translated and filled with
    the values it held; values that are messages themselves are translated too.
    Text no message made comes back as it is.

    The message is found by matching ``text`` against every msgid with
    placeholders, as a pattern (``"cannot start {key}: it is {status}"`` matches
    ``"cannot start KQT-1: it is resolved"``); of several that match, the one with
    the most fixed text wins. Meant for showing a few lines to a person (the
    patterns are built on first use, ~1 ms a line), never for data.

    ``value(name, text)``, when given, says how a single-word value reads
    (``core.message.labelled_value``: ``{status}``'s ``resolved`` as 已解决)."""
    return _localize(text, _current if lang is None else lang, 2, value)


def _localize(text: str, lang: str, depth: int, value: Callable[[str, str], str] | None = None) -> str:
    if not text or lang == LANGUAGES[0]:
        return text
    t = translator(lang)
    exact = t.gettext(text)
    if exact != text:
        return exact
    best: tuple[int, str, dict[str, str]] | None = None
    for fixed, pattern, translated in _patterns(lang):
        if best is not None and fixed <= best[0]:
            break  # sorted by fixed text, longest first: nothing later can beat the match in hand
        m = pattern.fullmatch(text)
        if m:
            best = (fixed, translated, m.groupdict())
    if best is None:
        if depth > 0 and "; " in text:  # reasons joined into one line: each on its own
            return t.gettext("; ").join(_localize(part, lang, depth - 1, value) for part in text.split("; "))
        return text
    # a value with a space may be a message itself; a single word is data (a key, a status, a name),
    # shown as the caller says (``value``: a label, a duration) or as its label when its placeholder
    # says what it is (LABELLED)
    values = {}
    for k, v in best[2].items():
        inner = _localize(v, lang, depth - 1, value) if depth > 0 and " " in v else v
        if inner == v:
            inner = value(k, v) if value is not None else labelled(k, v, lang)
        values[k] = inner
    return best[1].format(**values)


#: placeholders whose values are identifiers of the data model (a status, a blocked reason, a
#: checklist item), read as their labels (``ticketctl.core.labels``) wherever a message is shown:
#: placeholder -> label kind. The one place that says so, for :func:`fill` (a message made now),
#: :func:`localize` (English text stored or sent) and ``core.message.render`` (a Message). A value
#: may list several, joined as English joins them (``a, b``, ``a or b``); what is no identifier of
#: the kind (a key, free text) stays as it is. Stored text, events and ``--json`` keep the identifiers.
LABELLED: dict[str, str] = {"status": "status", "need": "status", "reason": "reason", "priority": "priority",
                            "impact": "impact", "type": "type", "item": "checklist", "items": "checklist",
                            "action": "action", "policy": "policy", "role": "role", "device": "device",
                            "signer": "device", "via": "confirm"}
#: of those, the placeholders whose values the reader types next (``checklist items not done: {items}
#: (pass --check ITEM)``): each label is followed by its identifier, in backticks
TYPED: dict[str, str] = {"items": "checklist"}
#: how the English messages join identifiers in one value; translated where the value is labelled
LIST_JOINS = (N_(", "), N_(" or "))
LIST_JOIN = re.compile("(" + "|".join(map(re.escape, LIST_JOINS)) + ")")
#: a label with the identifier the reader types (:data:`TYPED`)
LABEL_AND_VALUE = N_("{label} (`{value}`)")

#: ``(kind, value, lang, team) -> label``: set by ``ticketctl.core.labels`` (which this layer cannot import)
Labeller = Callable[[str, str, str, object], str]
_labeller: Labeller | None = None


def set_labeller(labeller: Labeller) -> None:
    """Let :func:`labelled` read labels (``ticketctl.core.labels`` calls this when it loads)."""
    global _labeller
    _labeller = labeller


def labelled(name: str, value: Any, lang: str | None = None, typed: Mapping[str, str] | None = None,
             team: object = None) -> Any:
    """``value`` of the placeholder ``name`` as a reader of ``lang`` reads it: its label when the
    placeholder is :data:`LABELLED` (or ``typed``, a placeholder -> label kind of values the reader
    types next, or :data:`TYPED`: the label and the identifier); ``team``: the config, for the team's
    own labels. Anything else (not a string, English, no label) comes back as it is."""
    lang = _current if lang is None else lang
    typed = {**TYPED, **(typed or {})}
    kind = typed.get(name) or LABELLED.get(name)
    if kind is None or _labeller is None or not isinstance(value, str) or not value or lang == LANGUAGES[0]:
        return value
    t = translator(lang)
    parts = LIST_JOIN.split(value)
    out, changed = [], False
    for i, part in enumerate(parts):
        if i % 2:
            out.append(t.gettext(part))
            continue
        label = _labeller(kind, part, lang, team)
        changed = changed or label != part
        out.append(t.gettext(LABEL_AND_VALUE).format(label=label, value=part) if name in typed and label != part
                   else label)
    return "".join(out) if changed else value


def fill(template: str, /, typed: Mapping[str, str] | None = None, team: object = None, **values: Any) -> str:
    """The message ``template`` (an English msgid, marked with ``N_()``) in the current language,
    filled with ``values`` in their English form (identifiers; lists joined with ``", "`` or
    ``" or "``): the values of :data:`LABELLED` placeholders (and of ``typed``) as labels (see
    :func:`labelled`). For a message shown now that also names identifiers: a refusal, a bad value.
    English: ``template.format(**values)``, exactly."""
    if _current == LANGUAGES[0]:
        return template.format(**values)
    return _t.gettext(template).format(**{k: labelled(k, v, _current, typed, team) for k, v in values.items()})


_pattern_cache: dict[str, list[tuple[int, Any, str]]] = {}


def _patterns(lang: str) -> list[tuple[int, Any, str]]:
    """(fixed characters, pattern, translation with bare ``{name}`` fields) of every
    msgid of ``lang``'s catalog that has named placeholders, most fixed text first."""
    if lang in _pattern_cache:
        return _pattern_cache[lang]
    import string

    fmt = string.Formatter()
    out: list[tuple[int, Any, str]] = []
    catalog = getattr(translator(lang), "_catalog", {})
    for msgid, msgstr in catalog.items():
        if not isinstance(msgid, str) or "{" not in msgid or not msgstr:
            continue
        try:
            parts = list(fmt.parse(msgid))
            bare = "".join(lit.replace("{", "{{").replace("}", "}}") + ("" if name is None else "{" + name + "}")
                           for lit, name, _spec, _conv in fmt.parse(msgstr))
        except ValueError:
            continue
        names = [name for _lit, name, _spec, _conv in parts if name is not None]
        if not names or any(not n.isidentifier() for n in names):
            continue  # positional or attribute fields: not made with .format(name=...)
        if len(re.findall(r"[A-Za-z]{2,}", "".join(lit for lit, *_rest in parts))) < 2:
            continue  # "{hours}h", "{key}: {error}": too little fixed text to tell a message from data
        regex, seen, fixed = [], set(), 0
        for lit, name, _spec, _conv in parts:
            regex.append(re.escape(lit))
            fixed += len(lit)
            if name is not None:
                regex.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
                seen.add(name)
        out.append((fixed, re.compile("".join(regex), re.DOTALL), bare))
    out.sort(key=lambda p: -p[0])
    _pattern_cache[lang] = out
    return out


def current() -> str:
    """The language in use."""
    return _current


def translate_commands(command: object) -> None:
    """Translate a Click command tree's help texts in place (help, short help,
    epilog, every parameter's help), for ``--help`` in the current language.

    Typer builds the tree anew for each invocation from docstrings and ``help=``
    texts, which stay English in the code; their catalog entries are extracted
    from the same tree by ``tools/i18n.py``."""
    if _current == LANGUAGES[0]:
        return
    for cmd in walk_commands(command):
        for attr in ("help", "short_help", "epilog"):
            text = getattr(cmd, attr, None)
            if text:
                setattr(cmd, attr, _t.gettext(text))
        for param in getattr(cmd, "params", ()):
            text = getattr(param, "help", None)
            if text:
                param.help = _t.gettext(text)


def walk_commands(command: object) -> list[object]:
    """The command and every subcommand below it, depth first."""
    out = [command]
    for sub in getattr(command, "commands", {}).values():
        out.extend(walk_commands(sub))
    return out
