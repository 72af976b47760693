"""The customers' pages are Jinja2 templates (``ticketctl/server/web/templates``)
that show whatever people typed as text, never as markup.

Each page that shows someone's words (a ticket's title, a customer's name, a
technician's, an article's body, a search, what was typed into the web form,
a refusal quoting it) is drawn with a ``"><script>`` in every such field, in
English and in Chinese: the text must be on the page, escaped, and no
``<script`` may reach the browser. The web form's and the knowledge base's are
also fetched from the server app over its own database; the others' data needs
a device's signed certificate or confirmation link, so their page functions
are fed what the server's verdict and link status give them.

Also: every text in a template goes through the catalog (``_("...")``), and
nothing under ``server/web`` talks SQL (its queries are ``server.store.forms``
and the other store modules).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_fixtures import bearer, home_in, mutation
from tools_loader import load_tool

from ticketctl.core.kb import Article
from ticketctl.core.model import Ticket
from ticketctl.i18n import translator
from ticketctl.server.admin import add_device, add_source
from ticketctl.server.app import create_app
from ticketctl.server.web import confirm, form, kb, pages, verify
from ticketctl.server.web.form_rules import Entry

LANGS = ("en", "zh_CN")
WEB = Path(pages.__file__).parent
TEMPLATES = WEB / "templates"


def hostile(name: str) -> str:
    """Text that would run a script if a page put it into its markup as it is (inside an attribute too)."""
    return f'"><script>alert("{name}")</script>'


def shown(name: str) -> str:
    """How :func:`hostile` text reads in the page's source once escaped."""
    return f"&#34;&gt;&lt;script&gt;alert(&#34;{name}&#34;)&lt;/script&gt;"


def assert_escaped(page: str, *names: str) -> None:
    assert "<script" not in page.lower()
    for name in names:
        assert shown(name) in page, name


def article(**fields: Any) -> Article:
    base = {"id": "KB-ABC-1", "title": hostile("title"), "author": "ana", "created_at": "2026-03-02T09:00:00Z",
            "updated_at": "2026-03-02T09:00:00Z", "problem": hostile("problem") + "\nsecond line", "cause": hostile("cause"),
            "steps": [hostile("step")], "solution": hostile("solution"), "tags": ["wifi"], "public": True,
            "published_at": "2026-03-02T09:00:00Z"}
    return Article(**{**base, **fields})


@pytest.mark.parametrize("lang", LANGS)
def test_the_confirmation_pages_escape_the_ticket(lang: str) -> None:
    status = {"key": "KQT-1", "title": hostile("title"), "state": "open", "expires_at": "2026-03-03T09:00:00Z",
              "questions": ["Is the problem solved?"]}
    page = confirm.confirm_form("KQT-1.token", status, lang)
    assert_escaped(page, "title")
    assert '<select id="r0" name="rating">' in page and 'action="/c/KQT-1.token"' in page  # the form's own markup stays markup
    for state in ("used", "expired"):
        assert_escaped(confirm.confirm_form("KQT-1.token", {**status, "state": state}, lang), "title")
    # a refusal from the rules quotes what the customer typed
    assert_escaped(confirm.not_recorded_page(f"cannot confirm: {hostile('comment')}", lang), "comment")
    assert_escaped(confirm.thanks_page(hostile("key"), lang), "key")


@pytest.mark.parametrize("lang", LANGS)
def test_the_certificate_page_escapes_names_and_titles(lang: str) -> None:
    v = {"valid": True, "reason": f"valid: certificate of {hostile('reason')}", "countersigned": False,
         "warnings": [hostile("warning")], "work": {"key": "KQT-1", "title": hostile("title"), "type": hostile("type")},
         "issued_at": "2026-03-02T09:00:00Z", "closed_at": "2026-03-02T10:00:00Z", "technician": hostile("technician"),
         "confirmation": {"by": hostile("customer"), "at": "2026-03-02T09:30:00Z", "via": hostile("via"),
                          "ratings": {"solved": 5, "professional": 4, "on_time": 5}},
         "reopened": True, "reopened_at": "2026-03-04T09:00:00Z", "status": hostile("status")}
    page = verify.verdict_page(v, lang)
    assert_escaped(page, "reason", "warning", "title", "type", "technician", "customer", "status")
    assert "<dl>" in page and "<dt>" in page
    bad = verify.verdict_page({**v, "valid": False, "reason": hostile("why")}, lang)
    assert_escaped(bad, "why")
    assert shown("customer") not in bad  # a certificate that is not valid shows none of its facts


@pytest.mark.parametrize("lang", LANGS)
def test_the_knowledge_base_pages_escape_articles_and_searches(lang: str) -> None:
    a = article()
    page = kb.article_page(a, lang)
    assert_escaped(page, "title", "problem", "cause", "step", "solution")
    assert f"{shown('problem')}<br>second line" in page  # the body's lines are lines; only the <br> is markup
    found = kb.search_page([a], hostile("query"), {hostile("typo"): [hostile("fix")]}, lang)
    assert_escaped(found, "query", "typo", "fix", "title", "problem")
    assert f'value="{shown("query")}"' in found  # the query stays inside its attribute
    assert_escaped(kb.search_page([], hostile("query"), {}, lang), "query")
    assert_escaped(kb.not_found_page(hostile("id"), lang), "id")


@pytest.mark.parametrize("lang", LANGS)
def test_the_form_pages_escape_what_was_typed(lang: str) -> None:
    entry = Entry(title=hostile("title"), description=hostile("description"), contact=hostile("contact"),
                  product=hostile("product"))
    page = form.form_page(entry, [], 64, lang, error=f"{hostile('error')} is neither a phone number nor an e-mail address.")
    assert_escaped(page, "title", "description", "contact", "product", "error")
    menu = form.form_page(entry, [hostile("menu"), "fibre"], 64, lang)
    assert_escaped(menu, "menu")
    assert '<option value="fibre">fibre</option>' in menu
    assert_escaped(form.answer_page(hostile("key"), "https://example.org/s/" + hostile("link"), lang), "key", "link")
    t = Ticket(key="WEB-1", title=hostile("title"), type="incident", dept="support", product=hostile("product"),
               created_at="2026-03-02T09:00:00Z", updated_at="2026-03-02T10:00:00Z", customer=hostile("customer"))
    from zoneinfo import ZoneInfo

    status = form.status_page(t, [("new", "2026-03-02T09:00:00Z")], ZoneInfo("Asia/Shanghai"), lang)
    assert_escaped(status, "product")
    assert shown("title") not in status and shown("customer") not in status  # nothing personal at all


# -- through the server, over its database ------------------------------------------------------


@pytest.fixture
def app(tmp_path: Path) -> tuple[TestClient, str]:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    client = TestClient(create_app(url, home_in(tmp_path)))
    add_source(url, "site", "web")
    return client, url


@pytest.mark.parametrize("accept", ["en", "zh-CN"])
def test_the_web_form_and_its_status_page_escape_what_a_customer_typed(app: tuple[TestClient, str], accept: str) -> None:
    client, _url = app
    headers = {"Accept-Language": accept}
    typed = {"title": hostile("title"), "description": hostile("description"), "contact": hostile("contact"),
             "product": hostile("product")}
    refused = client.post("/new", data=typed, headers=headers)  # the contact is no phone number nor address: the form again
    assert refused.status_code == 422
    assert_escaped(refused.text, "title", "description", "contact", "product")
    opened = client.post("/new", data={**typed, "contact": "ada@example.org"}, headers=headers)
    assert opened.status_code == 201
    link = re.search(r'id="status-link" href="([^"]+)"', opened.text)
    assert link is not None
    status = client.get(link.group(1), headers=headers)
    assert status.status_code == 200
    assert_escaped(status.text, "product")  # the product typed into the form (no menu yet) is the ticket's


@pytest.mark.parametrize("accept", ["en", "zh-CN"])
def test_the_knowledge_base_escapes_a_published_article(app: tuple[TestClient, str], accept: str) -> None:
    client, url = app
    dana = add_device(url, "dana", "dispatcher")["token"]
    assert client.post("/sync/hello", json={"prefix": "ABC"}, headers=bearer(dana)).status_code == 200
    fields = {"title": hostile("title"), "problem": hostile("problem"), "solution": hostile("solution"), "steps": [hostile("step")]}
    push = {"mutations": [mutation(1, "kb.add", article="KB-ABC-1", fields=fields), mutation(2, "kb.publish", article="KB-ABC-1")]}
    results = client.post("/sync/push", json=push, headers=bearer(dana)).json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied"], results
    headers = {"Accept-Language": accept}
    listing = client.get("/kb", headers=headers)
    assert listing.status_code == 200 and 'href="/kb/KB-ABC-1"' in listing.text
    assert_escaped(listing.text, "title", "problem")
    page = client.get("/kb/KB-ABC-1", headers=headers)
    assert page.status_code == 200
    assert_escaped(page.text, "title", "problem", "solution", "step")
    want = translator("zh_CN" if accept == "zh-CN" else "en").gettext("Solution")
    assert f"<h2>{want}</h2>" in page.text


# -- the templates themselves -------------------------------------------------------------------

#: what a template may hold besides markup and its {{ }} / {% %} / {# #}: the style sheet, and these
NOT_WORDS = re.compile(r"<style>.*?</style>|<[^>]+>|&[a-z]+;|[\s:·#/,()=-]|\d", re.S)
JINJA = re.compile(r"{% block style %}.*?{% endblock %}|{{.*?}}|{%.*?%}|{#.*?#}", re.S)


def test_every_text_of_a_template_comes_from_the_catalog() -> None:
    """Words written straight into a template would never be translated: every
    text is a ``_("...")`` call, and the extractor finds them."""
    found = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        rest = NOT_WORDS.sub("", JINJA.sub("", path.read_text(encoding="utf-8")))
        if rest:
            found[str(path.relative_to(TEMPLATES))] = rest
    assert found == {}
    messages = {m for m, _p in load_tool("i18n").template_messages()}
    assert {"Report a problem", "Certificate valid", "Knowledge base", "Confirm the work",
            "This address has sent {n} requests in the last hour, the most we take. Please try again in {minutes} min,"
            " or call us."} <= messages
    zh = translator("zh_CN").gettext
    assert [m for m in messages if zh(m) == m] == ["{label} {rating}/5"]  # the catalog translates each (that one reads the same)


def test_every_page_template_is_autoescaped_and_marks_nothing_safe_but_its_own_markup() -> None:
    """Autoescape is on for every template, and ``|safe`` (which turns it off for
    one value) is only ever given a literal of the template's own markup."""
    env = pages.templates()
    assert callable(env.autoescape)
    names = [p.relative_to(TEMPLATES).as_posix() for p in sorted(TEMPLATES.rglob("*.html"))]
    assert len(names) >= 14 and all(env.autoescape(name) for name in names)
    unsafe = []
    for name in names:
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        unsafe += [f"{name}: {m.group(0)}" for m in re.finditer(r"([^\s{(|]+)\s*\|\s*safe", text) if not m.group(1).endswith('"')]
        unsafe += [f"{name}: {m.group(0)}" for m in re.finditer(r"autoescape\s+false|Markup", text)]
    assert unsafe == []


def test_no_page_module_talks_sql() -> None:
    """The pages ask the server's store (``server.store``): none builds a statement
    (SQLAlchemy beyond the ``Connection`` and ``Engine`` it hands on), reads the schema, or executes anything."""
    bad = []
    for path in sorted(WEB.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and (
                    node.module.split(".")[0] == "sqlalchemy" and {a.name for a in node.names} - {"Connection", "Engine"}
                    or node.module == "ticketctl.server" and any(a.name == "schema" for a in node.names)
                    or node.module == "ticketctl.server.schema"):
                bad.append(f"{path.name}:{node.lineno} from {node.module}")
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "sqlalchemy" for a in node.names):
                bad.append(f"{path.name}:{node.lineno} import sqlalchemy")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                    "execute", "exec_driver_sql", "executemany"):
                bad.append(f"{path.name}:{node.lineno} .{node.func.attr}()")
    assert bad == []
