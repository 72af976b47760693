"""Extract, fill, check and compile ticketctl's message catalogs (with Babel).

    python tools/i18n.py extract              # bring every catalog in line with the code
    python tools/i18n.py missing [--json]     # msgids still without a translation
    python tools/i18n.py fill FILE.json ...   # take translations {msgid: msgstr} into the catalog
    python tools/i18n.py compile              # write the .mo files that ship in the wheel
    python tools/i18n.py check                # exit 1 on any problem (tests/test_i18n.py runs the same)

The catalog of a language is ``ticketctl/locale/<lang>/LC_MESSAGES/ticketctl.po``
(committed, reviewed like code) and its compiled ``ticketctl.mo`` (committed too,
so an installed wheel needs no Babel). Its msgids come from three places:

- ``_()``, ``N_()`` and ``ngettext()`` calls in ``ticketctl/`` (Babel's Python extractor),
  and ``_("...")`` calls in the server's page templates (``templates/**.html``,
  Jinja2's Babel extractor, ``jinja2.ext.babel_extract``);
- every command's help texts in the Click tree Typer builds (docstrings, ``help=``,
  ``epilog=``), which the CLI translates in place at run time
  (``ticketctl.i18n.translate_commands``);
- Click's and Typer's own messages ("Usage:", "Show this message and exit.",
  "No such option"), which ``ticketctl.i18n.use`` routes through the same catalog.

Source locations are not written (``#:`` lines would change with every edit); a
translation is found by its msgid alone.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ticketctl"
LOCALE = PACKAGE / "locale"
DOMAIN = "ticketctl"
TARGETS = ("zh_CN",)
#: the library modules whose gettext calls ticketctl.i18n.use redirects
LIBRARY_MODULES = {
    "click": ("core", "exceptions", "parser", "types", "formatting", "decorators", "termui", "utils"),
    "typer": ("core",),
}
PLACEHOLDER = re.compile(r"\{[^{}]*\}")

Message = tuple[str, str | None]  # (msgid, plural msgid or None)


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"


def _messages(found: Iterator[tuple]) -> Iterator[Message]:
    for item in found:
        text = item[2] if len(item) == 5 else item[1]  # extract_from_dir adds the file name first
        if isinstance(text, tuple):
            yield text[0], text[1]
        elif text:
            yield text, None


#: which extractor reads which of ticketctl's files: its Python, and the Jinja2 templates of the server's pages
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]


def code_messages() -> list[Message]:
    """msgids of ``_()``/``N_()``/``ngettext()`` calls in ticketctl's own code and page templates."""
    return list(_messages(extract_from_dir(str(PACKAGE), method_map=METHOD_MAP)))


def template_messages() -> list[Message]:
    """msgids of the page templates alone (what :func:`code_messages` finds in them)."""
    return list(_messages(extract_from_dir(str(PACKAGE), method_map=METHOD_MAP[1:])))


def help_messages() -> list[Message]:
    """Every help text of the command tree, as Typer builds it (in English)."""
    import typer

    from ticketctl import i18n
    from ticketctl.cli import build_app

    i18n.use("en")
    out: list[Message] = []
    for cmd in i18n.walk_commands(typer.main.get_command(build_app())):
        for attr in ("help", "short_help", "epilog"):
            text = getattr(cmd, attr, None)
            if text:
                out.append((text, None))
        for param in getattr(cmd, "params", ()):
            text = getattr(param, "help", None)
            if text:
                out.append((text, None))
    return out


def library_messages() -> list[Message]:
    """Click's and Typer's own messages, from the installed packages."""
    import importlib

    out: list[Message] = []
    for package, modules in LIBRARY_MODULES.items():
        for module in modules:
            path = importlib.import_module(f"{package}.{module}").__file__
            assert path is not None
            out.extend(_messages(iter(extract_from_file("python", path))))
    return out


def wanted() -> dict[str, str | None]:
    """Every msgid the catalogs must hold, with its plural form (if any)."""
    out: dict[str, str | None] = {}
    for msgid, plural in [*code_messages(), *help_messages(), *library_messages()]:
        if out.get(msgid) is None:
            out[msgid] = plural
    return out


#: fixed header dates: a catalog changes only when its messages do
HEADER_DATE = datetime(2026, 12, 2, tzinfo=UTC)


def new_catalog(lang: str) -> Catalog:
    return Catalog(locale=lang, domain=DOMAIN, project="ticketctl", version="1", copyright_holder="the ticketctl authors",
                   header_comment="# Simplified Chinese messages of ticketctl: python tools/i18n.py extract | fill | compile.",
                   msgid_bugs_address="", last_translator="the ticketctl team", language_team=lang,
                   creation_date=HEADER_DATE, revision_date=HEADER_DATE, fuzzy=False)


def load(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return new_catalog(lang)
    with open(path, "rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def save(catalog: Catalog, lang: str) -> None:
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    write_po(buf, catalog, width=0, omit_header=False, sort_output=True, include_lineno=False,
             include_previous=False, ignore_obsolete=True)
    path.write_bytes(buf.getvalue())


def _key(msgid: str, plural: str | None) -> str | tuple[str, str]:
    return (msgid, plural) if plural else msgid


def _text(message: object) -> str:
    mid = message.id  # type: ignore[attr-defined]
    return mid[0] if isinstance(mid, tuple) else mid


def extract() -> None:
    """Add new msgids (untranslated), drop msgids the code no longer has."""
    want = wanted()
    for lang in TARGETS:
        old = load(lang)
        new = new_catalog(lang)
        kept = {_text(m): m for m in old if m.id}
        for msgid, plural in sorted(want.items()):
            prev = kept.get(msgid)
            string: str | tuple[str, ...] = ""
            if prev is not None and not prev.fuzzy:
                string = prev.string
            if plural and not isinstance(string, tuple):
                string = (string,) if string else ("",)
            if not plural and isinstance(string, tuple):
                string = string[0]
            new.add(_key(msgid, plural), string)
        save(new, lang)
        n_missing = sum(1 for m in new if m.id and not _translated(m))
        print(f"{po_path(lang).relative_to(ROOT)}: {len(want)} messages, {n_missing} untranslated", file=sys.stderr)


def _translated(message: object) -> bool:
    s = message.string  # type: ignore[attr-defined]
    strings = s if isinstance(s, tuple) else (s,)
    return bool(strings) and all(strings) and not message.fuzzy  # type: ignore[attr-defined]


def missing(lang: str) -> list[str]:
    return [_text(m) for m in load(lang) if m.id and not _translated(m)]


def fill(files: list[str], lang: str) -> None:
    """Take translations from JSON files of {msgid: msgstr} (unknown msgids are reported, not added)."""
    catalog = load(lang)
    by_text = {_text(m): m for m in catalog if m.id}
    unknown: list[str] = []
    taken = 0
    for name in files:
        for msgid, msgstr in json.loads(Path(name).read_text(encoding="utf-8")).items():
            m = by_text.get(msgid)
            if m is None:
                unknown.append(msgid)
                continue
            m.string = tuple(msgstr for _i in m.string) if isinstance(m.string, tuple) else msgstr
            m.flags.discard("fuzzy")
            taken += 1
    save(catalog, lang)
    print(f"{taken} translations taken, {len(unknown)} msgids not in the catalog", file=sys.stderr)
    for u in unknown[:40]:
        print(f"  not in the catalog: {u!r}", file=sys.stderr)


def compiled(lang: str) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, load(lang), use_fuzzy=False)
    return buf.getvalue()


def compile_all() -> None:
    for lang in TARGETS:
        mo_path(lang).write_bytes(compiled(lang))


def problems() -> list[str]:
    """Everything wrong with the catalogs, one line each (empty: all good)."""
    out: list[str] = []
    want = wanted()
    for lang in TARGETS:
        catalog = load(lang)
        have = {_text(m): m for m in catalog if m.id}
        where = po_path(lang).relative_to(ROOT)
        for msgid in sorted(set(want) - set(have)):
            out.append(f"{where}: stale: no entry for {msgid!r} (run python tools/i18n.py extract)")
        for msgid in sorted(set(have) - set(want)):
            out.append(f"{where}: stale: {msgid!r} is no longer in the code (run python tools/i18n.py extract)")
        for msgid, m in sorted(have.items()):
            if msgid not in want:
                continue
            if not _translated(m):
                out.append(f"{where}: no translation for {msgid!r}")
                continue
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            for s in strings:
                if sorted(PLACEHOLDER.findall(s)) != sorted(PLACEHOLDER.findall(msgid)):
                    out.append(f"{where}: placeholders differ in the translation of {msgid!r}: {s!r}")
        if not mo_path(lang).exists() or mo_path(lang).read_bytes() != compiled(lang):
            out.append(f"{mo_path(lang).relative_to(ROOT)}: not compiled from the .po (run python tools/i18n.py compile)")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("extract")
    m = sub.add_parser("missing")
    m.add_argument("--json", action="store_true")
    f = sub.add_parser("fill")
    f.add_argument("files", nargs="+")
    sub.add_parser("compile")
    sub.add_parser("check")
    a = p.parse_args(argv)
    if a.cmd == "extract":
        extract()
    elif a.cmd == "missing":
        for lang in TARGETS:
            todo = missing(lang)
            if a.json:
                print(json.dumps({t: "" for t in todo}, ensure_ascii=False, indent=1))
            else:
                print("\n".join(todo))
    elif a.cmd == "fill":
        for lang in TARGETS:
            fill(a.files, lang)
    elif a.cmd == "compile":
        compile_all()
    elif a.cmd == "check":
        bad = problems()
        for line in bad:
            print(line, file=sys.stderr)
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
