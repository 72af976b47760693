"""Finds English left in text a Chinese reader reads, and Chinese left in text an
English reader reads (issue 23).

:func:`english` takes rendered text (a command's output, a dashboard screen, a
customer's page, a certificate's page text) and the store's own data strings
(titles, names, customers, notes: exempt in any language) and returns the
English words left: runs of ASCII letters (at least two) that are none of

- the data, or a word of it;
- what a person types, which stays ASCII in every language (docs/i18n.md):
  option names (``--reason``), environment variables (``TICKETCTL_USER``),
  anything in backticks, a ``ticketctl ...`` command line's command words and
  placeholders (``ticketctl block KEY --reason awaiting_parts``), config keys
  (``proof.photo_window``) and, in help (``typed=``), the command tree's names,
  choices and metavars and the identifiers a user types (``in_progress``);
- things that are no words: URLs, e-mail addresses, file paths and file names,
  ticket and article keys (``KQT-12``, ``KB-KQT-3``), ISO-8601 times (their
  ``T`` and ``Z``), hashes, tokens and signatures, sizes in bytes (``12 MB``);
- :data:`ALLOWED`, a short list of names Chinese text writes in Latin letters.

A number with a one-letter English duration unit (``5m``, ``24 h``, ``3d``) is a
finding too: durations are labelled in the reader's language.

:func:`chinese` is the reverse, for English runs: the runs of CJK characters
(and full-width punctuation) that no data string holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

#: Words Chinese technical text itself writes in Latin letters, so they are no leftover:
#: the abbreviations the issue names (SLA, KPI, QR, PDF, CSV, XLSX, JSON) and a few more of the
#: same kind (formats, protocols, standards, algorithms, the certificate payload's format tag
#: TKC1), names of products and programs (ticketctl itself, the systems it imports from or
#: takes alerts from, the programs its help names), the shell's stream names, and key caps
#: (the dashboard's help lists keys as a keyboard labels them). Nothing here is a word of an
#: English sentence: a leftover message cannot hide behind it.
ALLOWED = frozenset({
    "SLA", "KPI", "QR", "PDF", "CSV", "XLSX", "JSON", "HTML", "SVG", "TOML", "CJK", "EXIF", "ISO", "UTC", "ID", "URL",
    "API", "HTTP", "HTTPS", "IMAP", "SMTP", "SHA", "Ed25519", "bm25", "TKC1",
    "ticketctl", "SQLite", "PostgreSQL", "ServiceNow", "Alertmanager", "Prometheus", "prometheus", "Excel", "Markdown",
    "Windows", "cron", "stdout", "stderr",
    "Enter", "Esc", "Escape", "Tab", "Ctrl", "Shift", "enter", "escape", "tab", "ctrl", "shift",
})

CJK_CHARS = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
CJK_RUN = re.compile(f"[{CJK_CHARS}]+")
#: ASCII letters (with digits and underscores inside: ``in_progress``, ``Ed25519`` are one word each)
WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z][A-Za-z0-9_]*")
#: a number with an English duration unit of one letter or ``min``: "5m", "24 h", "-3d"
DURATION = re.compile(r"(?<![\w.:])\d+(?:\.\d+)?\s?(?:d|h|m|s|min)(?![A-Za-z0-9_])")

#: spans that are no words, removed before the words are read (order matters: the wider first)
NOT_WORDS = [re.compile(p) for p in (
    r"ticketctl: error:", r"ticketctl:",
    r"[a-z][a-z0-9+.-]*://[^\s<>\"'，。；：）、]+",                     # URLs
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",                               # e-mail addresses
    r"\b(?:[a-z0-9-]+\.)+(?:com|org|net|cn|io|local|example)\b",     # host names
    r"(?<![\w/])(?:~|\.{1,2})?/[^\s<>\"'，。；：）、…]+",                 # paths (/tmp/x/cert.pdf, ~/.config)
    r"[\w.-]+\.(?i:pdf|csv|xlsx|json|toml|db|sqlite|log|jpe?g|png|svg|html?|txt|md|eml|gz|otc|ttf|po|mo|xml|pem|crt)\b",
    r"\$?\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", r"\$[A-Za-z]+\b",      # environment variables, IMAP keywords
    r"\bX-[A-Za-z0-9-]+",                                          # HTTP headers
    r"(?<![\w-])--?[A-Za-z][\w-]*(?:[ =][A-Z][A-Z_]+\b)?",          # option names, with a placeholder (--check ITEM)
    r"\b[a-z_]+:[A-Z]\b",                                          # filter words (dept:X)
    r"([\"'])[a-z_]+\1",                                            # a quoted identifier ("encoding", 'article')
    r"\b[A-Z][a-z]+/[A-Z][A-Za-z_]+\b",                            # time zones (Europe/Madrid, Asia/Shanghai)
    r"\b\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)?(?:Z|[+-]\d\d:?\d\d)?",  # ISO-8601 times
    r"\b(?:KB-)?[A-Z]{2,6}-\d+\b",                                  # ticket and article keys
    r"\b[0-9a-fA-F]{8,}\b",                                        # hashes
    r"[A-Za-z0-9_+/=.~-]*\d[A-Za-z0-9_+/=.~-]*[A-Za-z][A-Za-z0-9_+/=.~-]{14,}",  # tokens, signatures, payloads
    r"[A-Za-z0-9_+/=.~-]{16,}\d[A-Za-z0-9_+/=.~-]*",
    r"\b\d+(?:\.\d+)?\s?(?:[KMGT]i?B|kB)\b",                       # sizes
    r"(?i)\b(?:utf-8(?:-sig)?|gb18030|gbk|gb2312|big5|latin-1|cp\d+)\b",  # text encodings (typed: --encoding)
)]
HYPHENATED = re.compile(r"(?<![\w-])[a-z][a-z0-9]*(?:-[a-z0-9]+)+(?![\w-])")
#: what the user types, quoted in backticks (a help paragraph may wrap inside one)
BACKTICKS = re.compile(r"`[^`]{0,300}`")
#: a ``ticketctl`` command line: the command words and arguments after it (a quoted argument is one)
COMMAND_LINE = re.compile(r"ticketctl((?:[ \t]+(?:'[^'\n]*'|\"[^\"\n]*\"|[!-~]+))+)")
ARG = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|[!-~]+")
#: a placeholder in a usage line or an example: KEY, [OPTIONS], COMMAND [ARGS]..., URL/c/TOKEN
PLACEHOLDER = re.compile(r"^[\[<(]*[A-Z][A-Z0-9_]*(?:[/.|][A-Z0-9_/.|]*)*[\]>)]*(?:\.\.\.)?[,;.]?$")


@dataclass(frozen=True)
class Finding:
    word: str
    line: str

    def __str__(self) -> str:
        return f"{self.word!r} in: {self.line.strip()[:160]}"


def _without(text: str, strings: Iterable[str]) -> str:
    for s in sorted({s for s in strings if s and s.strip()}, key=len, reverse=True):
        text = text.replace(s, " ")
    return text


def _command_lines(line: str, typed: frozenset[str], config_keys: frozenset[str]) -> str:
    """The line with a ``ticketctl ...`` command's typed words blanked: its command words (those
    of ``typed``), placeholders, identifiers and config keys; quoted text and other words stay."""
    def blank(m: re.Match[str]) -> str:
        out = []
        for arg in ARG.findall(m.group(1)):
            bare = arg.strip("'\"")
            if arg[0] in "'\"":
                out.append(bare)  # a quoted argument is an example's text: read it
            elif (arg in typed or PLACEHOLDER.match(arg) or "_" in arg or arg.startswith("-") or any(c.isdigit() for c in arg)
                  or config_keys and re.match(r"(?:{})\.".format("|".join(config_keys)), arg)):
                out.append(" ")
            else:
                out.append(arg)
        return " " + " ".join(out)
    return COMMAND_LINE.sub(blank, line)


def english(text: str, data: Iterable[str] = (), typed: Iterable[str] = (), config_keys: Iterable[str] = (),
            help_text: bool = False) -> list[Finding]:
    """The English words left in ``text`` (see the module's docstring). ``typed``: the words a
    user types (command names, choices, metavars, identifiers), exempt where the user is told
    what to type: in ``ticketctl ...`` lines anywhere, and everywhere in help (``help_text``)."""
    data = [d for d in data if d]
    typed_set = frozenset(typed)
    keys = frozenset(config_keys)
    data_words = {w for d in data for w in WORD.findall(d)}
    found: list[Finding] = []
    config_key = re.compile(r"(?<![\w.])(?:{})(?:\.[\w<>-]+)+".format("|".join(map(re.escape, keys)))) if keys else None
    shown = text.splitlines()  # a finding quotes its line as shown (the data and backticks take no line away)
    text = BACKTICKS.sub(lambda m: " " + "\n" * m.group(0).count("\n"), _without(text, data))
    for n, rest in enumerate(text.splitlines()):
        line = shown[n] if n < len(shown) else rest
        rest = _command_lines(rest, typed_set, keys)
        if config_key:
            rest = config_key.sub(" ", rest)
        if help_text:
            rest = re.sub(r"\b[a-z_]+=", " ", rest)  # key=value: the key is a field the user names
            rest = HYPHENATED.sub(lambda m: " " if m.group(0) in typed_set else m.group(0), rest)  # add-device
        for pattern in NOT_WORDS:
            rest = pattern.sub(" ", rest)
        for m in DURATION.finditer(rest):
            found.append(Finding(m.group(0), line))
        rest = DURATION.sub(" ", rest)
        for word in WORD.findall(rest):
            if sum(c.isalpha() for c in word) < 2 or word in ALLOWED or word in data_words:
                continue
            if help_text and (word in typed_set or "_" in word or PLACEHOLDER.match(word) and word.isupper()):
                continue
            found.append(Finding(word, line))
    return found


def toml_prose(text: str) -> str:
    """What a person reads in a TOML document (``config show``): its comments and its string
    values of more than one word. Its keys, section names and one-word values are what the user
    types into the file (``resolve = "4h"``, ``reason = "awaiting_parts"``)."""
    out = []
    for line in text.splitlines():
        comment = re.match(r"\s*#(.*)", line)
        if comment:
            out.append(comment.group(1))
            continue
        out += [m.group(1) for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', line) if " " in m.group(1).strip()]
    return "\n".join(out)


def chinese(text: str, data: Iterable[str] = ()) -> list[Finding]:
    """The runs of CJK characters in ``text`` that are not the data's (nor part of a data string:
    a screen may cut a title short)."""
    data = [d for d in data if d]
    found = []
    shown = text.splitlines()
    for n, rest in enumerate(_without(text, data).splitlines()):
        line = shown[n] if n < len(shown) else rest
        for run in CJK_RUN.findall(rest):
            if run.strip("\u3000") and not any(run in d for d in data):
                found.append(Finding(run, line))
    return found
