"""The customers' web form (``server.web.form``): ``/new`` opens a ticket as the
team's web source, ``/s/KEY.TOKEN`` shows its progress.

In process (the server app over a SQLite file) for the rules: a post without
a title, with a file that is not an image or a photo too large is the form
again (4xx, what was typed kept) and writes nothing, not even the blob; one
address gets ``intake.web_per_hour`` tickets an hour, counted in the database
(two apps on one database share the count); a forged status link is the same
404 as an unknown key; the status page holds no personal data. Fuzzed from
the OpenAPI schema: no 5xx.

In a real headless Chromium against a real ``ticketctl server run``: a
customer fills the form with a real PNG, reads the key and opens the status
link; a dispatcher's device syncs and sees the ticket (channel ``web``, the
photo's sha256 in its evidence), assigns it, and the status page says so. At
a phone's size (390x844, mobile emulation) nothing is wider than the screen.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import shutil
import sqlite3
from base64 import urlsafe_b64encode
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from PIL import Image
from schemathesis.checks import not_a_server_error
from server_fixtures import DISPATCHER_FIELDS, bearer, home_in, mutation
from sync_helpers import Server, client

from ticketctl.i18n import translator
from ticketctl.server.admin import add_device, add_source, revoke
from ticketctl.server.app import create_app
from ticketctl.services import techs, tickets
from ticketctl.sync import client as sync

LIMIT2 = "[intake]\nweb_per_hour = 2\n"
SMALL_PHOTOS = "[intake]\nmax_photo_kb = 64\n"


def png(size: tuple[int, int] = (64, 48), noise: bool = False) -> bytes:
    """A real PNG (random pixels compress badly: ``noise`` makes a large file)."""
    img = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if noise else Image.new("RGB", size, (200, 30, 30))
    return saved(img, "PNG")


def saved(img: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    img.save(out, kind)
    return out.getvalue()


class Site:
    """The server app in process with a web source, and its database read directly."""

    def __init__(self, root: Path, config: str = "", web: bool = True):
        self.db = root / "server.db"
        self.url = f"sqlite:///{self.db}"
        self.home = home_in(root)
        if config:
            (root / "config.toml").write_text(config)
        self.app = create_app(self.url, self.home)
        self.client = TestClient(self.app)
        if web:
            self.source = add_source(self.url, "site", "web")

    def post(self, photo: tuple[str, bytes, str] | None = None, via: TestClient | None = None,
             headers: dict[str, str] | None = None, fields: Mapping[str, str | None] | None = None,
             **more: str | None) -> httpx.Response:
        """Post the form: a title, details and contact unless ``fields`` and ``more`` say otherwise (``None``: leave it out)."""
        given = {"title": "Router lights are off", "description": "since the storm", "contact": "ada@example.org",
                 **(fields or {}), **more}
        form = {k: v for k, v in given.items() if v is not None}
        return (via or self.client).post("/new", data=form, files={"photo": photo} if photo else None, headers=headers)

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(self.db)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def ticket(self, key: str) -> dict[str, Any]:
        return dict(json.loads(self.rows("SELECT data FROM tickets WHERE key = ?", key)[0][0]))

    def written(self) -> tuple[int, ...]:
        """What a refused post must leave as it was: events, tickets, blobs, hits, the sequence."""
        return tuple(self.rows(f"SELECT count(*) FROM {t}")[0][0] for t in ("events", "tickets", "blobs", "intake_hits")) + (
            self.rows("SELECT value FROM counters WHERE name = 'seq'")[0][0],)

    def token(self, key: str) -> str:
        """The status token the server should give ``key``: the HMAC of the key under its stored secret."""
        (secret,) = self.rows("SELECT value FROM server_meta WHERE key = 'status_secret'")[0]
        return urlsafe_b64encode(hmac.new(secret.encode(), key.encode(), hashlib.sha256).digest()).decode()[:16]


def link_in(page: str) -> str:
    m = re.search(r'id="status-link" href="http://testserver(/s/[^"]+)"', page)
    assert m, page
    return m.group(1)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


# -- the form ---------------------------------------------------------------------------


def test_the_form_is_404_until_the_team_has_a_web_source(tmp_path: Path) -> None:
    s = Site(tmp_path, web=False)
    add_source(s.url, "prometheus", "alertmanager")  # a door of another kind opens no form
    for r in (s.client.get("/new"), s.post()):
        assert r.status_code == 404 and "There is no web form here." in r.text, r.text
    assert s.written()[:4] == (0, 0, 0, 0)
    add_source(s.url, "site", "web")
    r = s.client.get("/new")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert '<meta name="viewport" content="width=device-width,initial-scale=1">' in page
    assert 'enctype="multipart/form-data"' in page and '<input id="photo" name="photo" type="file" accept="image/*" capture>' in page
    for name in ("title", "description", "contact", "product"):
        assert f'name="{name}"' in page
    assert "<script" not in page and "http" not in page  # no scripts, no external assets
    revoke(s.url, "intake:site")
    assert s.client.get("/new").status_code == 404


def test_a_post_opens_a_web_ticket_with_its_photo_as_evidence(site: Site) -> None:
    photo = png()
    r = site.post(("router.png", photo, "image/png"), contact="+44 20 7946 0000", product="fibre")
    assert r.status_code == 201, r.text
    assert '<p class=key id="key">WEB-1</p>' in r.text
    assert link_in(r.text) == f"/s/WEB-1.{site.token('WEB-1')}"
    t = site.ticket("WEB-1")
    assert (t["title"], t["description"], t["channel"], t["product"], t["type"], t["dept"], t["status"]) == (
        "Router lights are off", "since the storm", "web", "fibre", "repair", "operations", "new")
    # a phone number is the ticket's phone (which technicians never receive), not its customer
    assert (t["phone"], t["customer"]) == ("+44 20 7946 0000", "")
    sha = hashlib.sha256(photo).hexdigest()
    assert [(e["sha256"], e["name"], e["mime"], e["size"]) for e in t["evidence"]] == [(sha, "router.png", "image/png", len(photo))]
    assert site.rows("SELECT sha256, size FROM blobs") == [(sha, len(photo))]
    assert site.rows("SELECT source, address FROM intake_hits") == [("site", "testclient")]
    devices = {d for (d,) in site.rows("SELECT DISTINCT device FROM events")}
    assert devices == {"intake:site"}
    r = site.post(contact="ada@example.org")  # an e-mail address is the customer; no photo is fine
    assert r.status_code == 201 and site.ticket("WEB-2")["customer"] == "ada@example.org" and site.ticket("WEB-2")["evidence"] == []
    r = site.post(contact="１３８ ００１３ ８０００")  # full-width digits, as a Chinese input method types them
    assert r.status_code == 201 and site.ticket("WEB-3")["phone"] == "138 0013 8000"


@pytest.mark.parametrize("fields, message", [
    ({"title": None}, "Please say in a few words what is wrong."),
    ({"title": "  "}, "Please say in a few words what is wrong."),
    ({"title": "x" * 201}, "The title is longer than 200 characters."),
    ({"description": "y" * 5001}, "The details are longer than 5000 characters."),
    ({"contact": ""}, "Please give a phone number or an e-mail address"),
    ({"contact": "call me maybe"}, "call me maybe is neither a phone number nor an e-mail address."),
    ({"contact": "12 34"}, "is neither a phone number nor an e-mail address."),
])
def test_bad_input_is_422_with_the_form_again_keeping_what_was_typed(site: Site, fields: dict[str, str | None], message: str) -> None:
    typed = {"description": "It <b>blinks</b> & beeps\nthen stops", "contact": "ada@example.org", "product": "fibre", **fields}
    before = site.written()
    r = site.post(("router.png", png(), "image/png"), fields=typed)
    assert r.status_code == 422, r.text
    assert message in r.text and 'role="alert"' in r.text
    assert '<form method="post" action="/new"' in r.text
    if "title" not in fields:
        assert 'value="Router lights are off"' in r.text
    if "description" not in fields:
        assert ">It &lt;b&gt;blinks&lt;/b&gt; &amp; beeps\nthen stops</textarea>" in r.text  # kept, and escaped
    if "contact" not in fields:
        assert 'value="ada@example.org"' in r.text
    assert site.written() == before


@pytest.mark.parametrize("name, data", [
    ("notes.png", b"this is a text file, not a picture"),
    ("cut.png", png()[:60]),  # the header of a PNG and nothing after it
    ("fake.jpg", b"\xff\xd8\xff\xe0" + os.urandom(2000)),  # JPEG's magic bytes, no JPEG
    ("cut.jpg", saved(Image.new("RGB", (100, 100)), "JPEG")[:800]),  # its header verifies, its pixels are missing
    ("page.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("scan.bmp", saved(Image.new("RGB", (20, 20)), "BMP")),  # an image, but not a format phones send
])
def test_a_file_that_is_not_an_image_leaves_no_ticket_and_no_blob(site: Site, name: str, data: bytes) -> None:
    before = site.written()
    r = site.post((name, data, "image/png"), description="kept")
    assert r.status_code == 422, r.text
    assert "The file is not a photo we can read" in r.text and ">kept</textarea>" in r.text
    assert site.written() == before


def test_a_photo_over_max_photo_kb_is_413_and_writes_nothing(tmp_path: Path) -> None:
    site = Site(tmp_path, SMALL_PHOTOS)
    big = png((200, 200), noise=True)  # ~118 KiB: under the body limit (64 + 64 KiB), over the photo's
    assert 64 * 1024 < len(big) < 128 * 1024
    before = site.written()
    r = site.post(("big.png", big, "image/png"))
    assert r.status_code == 413 and "The photo is larger than 64 KB." in r.text and 'value="Router lights are off"' in r.text
    huger = png((300, 300), noise=True)  # over the whole body's limit: the middleware refuses it unread
    r = site.post(("huge.png", huger, "image/png"))
    assert r.status_code == 413
    assert site.written() == before
    wide = saved(Image.new("1", (6000, 5000)), "PNG")  # a few KiB, 30 million pixels: refused before it is decoded
    r = site.post(("wide.png", wide, "image/png"))
    assert r.status_code == 413 and "more than 25 million pixels" in r.text
    assert site.written() == before
    assert site.post(("small.png", png(), "image/png")).status_code == 201


def test_an_unreadable_body_is_400_with_the_form(site: Site) -> None:
    before = site.written()
    for content, ctype in ((b"--x\r\nnot a part", "multipart/form-data; boundary=x"), (b"anything", "multipart/form-data")):
        r = site.client.post("/new", content=content, headers={"Content-Type": ctype})
        assert r.status_code == 400 and "The form could not be read" in r.text, r.text
    assert site.written() == before


def test_the_rate_limit_is_per_address_and_kept_in_the_database(tmp_path: Path) -> None:
    site = Site(tmp_path, LIMIT2)
    assert [site.post(title=f"fault {i}").status_code for i in range(2)] == [201, 201]
    before = site.written()
    r = site.post(title="one too many")
    assert r.status_code == 429 and "Too many requests" in r.text and "2 requests in the last hour" in r.text
    assert 3000 < int(r.headers["Retry-After"]) <= 3600
    assert site.written() == before
    # another worker on the same database counts the same hits
    other_worker = TestClient(create_app(site.url, site.home))
    assert site.post(title="again", via=other_worker).status_code == 429
    # a bad post does not count; another address has its own hour
    neighbour = TestClient(site.app, client=("203.0.113.9", 40000))
    assert site.post(title="", via=neighbour).status_code == 422
    assert [site.post(title=f"n{i}", via=neighbour).status_code for i in range(3)] == [201, 201, 429]
    assert site.rows("SELECT address, count(*) FROM intake_hits GROUP BY address ORDER BY address") == [
        ("203.0.113.9", 2), ("testclient", 2)]
    # an hour later the address may post again, and the hits of the past are gone
    db = sqlite3.connect(site.db)
    db.execute("UPDATE intake_hits SET at = at - 3601 WHERE address = 'testclient'")
    db.commit()
    db.close()
    assert site.post(title="next hour").status_code == 201
    assert site.rows("SELECT address, count(*) FROM intake_hits GROUP BY address ORDER BY address") == [
        ("203.0.113.9", 2), ("testclient", 1)]


def test_the_product_menu_lists_the_teams_products(tmp_path: Path) -> None:
    site = Site(tmp_path)
    assert '<input id="product" name="product"' in site.client.get("/new").text  # no tickets yet: free text
    assert site.post(product="Flat 4B router").status_code == 201
    assert site.ticket("WEB-1")["product"] == "Flat 4B router"
    dana = add_device(site.url, "dana", "dispatcher")["token"]
    assert site.client.post("/sync/hello", json={"prefix": "ABC"}, headers=bearer(dana)).json()["prefix"] == "ABC"
    push = {"mutations": [mutation(i + 1, "ticket.create", key=f"ABC-{i + 1}", fields={**DISPATCHER_FIELDS, "product": p})
                          for i, p in enumerate(("fibre", "Copper", "fibre", "general"))]}
    assert {x["status"] for x in site.client.post("/sync/push", json=push, headers=bearer(dana)).json()["results"]} == {"applied"}
    fresh = TestClient(create_app(site.url, site.home))  # the menu is read at most once a minute per process
    options = re.findall(r'<option value="([^"]*)"', fresh.get("/new").text)
    # "other" first, then the team's products: not the default one ("other" stands for it),
    # nor what a customer typed into the form (kept on the ticket, never shown to the next customer)
    assert options == ["", "Copper", "fibre"]
    assert site.post(product="made up", via=fresh).status_code == 201
    assert site.ticket("WEB-2")["product"] == "general"  # not on the menu: the default product
    assert site.post(product="Copper", via=fresh).status_code == 201 and site.ticket("WEB-3")["product"] == "Copper"


# -- the status link ---------------------------------------------------------------------


def test_a_forged_or_unknown_status_link_is_404_and_the_same_page(site: Site) -> None:
    site.post()
    good = site.token("WEB-1")
    assert site.client.get(f"/s/WEB-1.{good}").status_code == 200
    answers = [site.client.get(f"/s/{ref}") for ref in (
        f"WEB-1.{good[:-1]}A" if good[-1] != "A" else f"WEB-1.{good[:-1]}B", "WEB-1", "WEB-1.", f".{good}",
        f"WEB-2.{good}", f"WEB-99.{site.token('WEB-99')}", "x" * 300 + f".{good}")]
    assert {r.status_code for r in answers} == {404}
    assert len({r.text for r in answers}) == 1 and "There is no request at this link." in answers[0].text


def test_the_status_page_shows_progress_and_nothing_personal(site: Site) -> None:
    personal = {"title": "Flat 4B, Mrs Okafor: no signal", "description": "the key is under the mat",
                "contact": "okafor@example.org"}
    r = site.post(fields=personal)
    ref = link_in(r.text)
    dana = add_device(site.url, "dana", "dispatcher")["token"]
    assert site.client.post("/sync/hello", json={"prefix": "ABC"}, headers=bearer(dana)).json()["prefix"] == "ABC"
    push = {"mutations": [mutation(1, "tech.add", name="ana", skills=[]), mutation(2, "ticket.assign", key="WEB-1", name="ana"),
                          mutation(3, "ticket.note", key="WEB-1", text="spoke to the customer")]}
    assert [x["status"] for x in site.client.post("/sync/push", json=push, headers=bearer(dana)).json()["results"]] == ["applied"] * 3
    r = site.client.get(ref)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"
    page = r.text
    assert '<p class=key id="status">A technician is assigned</p>' in page and "<h1>WEB-1</h1>" in page
    history = re.findall(r"<li><time [^>]+>[^<]+</time>: ([^<]+)</li>", page)
    assert history == ["Received: waiting for a technician", "A technician is assigned"]  # the note changed no status
    for secret in (*personal.values(), "Okafor", "ana", "spoke to the customer", "intake:site", "dana"):
        assert secret not in page, secret


def test_pages_speak_the_browsers_language(site: Site) -> None:
    zh = translator("zh_CN").gettext
    r = site.post(headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert r.status_code == 201 and r.headers["content-language"] == "zh-CN" and '<html lang="zh-CN">' in r.text
    assert f"<h1 class=ok>{zh('Thank you')}</h1>" in r.text and zh("Thank you") != "Thank you"
    r = site.client.get("/s/WEB-1.forged", headers={"Accept-Language": "zh"})
    assert r.status_code == 404 and f"<h1>{zh('Not found')}</h1>" in r.text
    r = site.client.get("/new", headers={"Accept-Language": "en-GB,zh;q=0.5"})
    assert r.headers["content-language"] == "en" and "<h1>Report a problem</h1>" in r.text


# -- fuzzed --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return Site(tmp_path_factory.mktemp("web-fuzz"))


@pytest.fixture(scope="module")
def web_schema(fuzz_site: Site) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_site.app)


schema = schemathesis.pytest.from_fixture("web_schema")


@schema.include(path_regex=r"^/(new$|s/)").parametrize()
@settings(max_examples=40, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_post_or_link_gets_a_server_error(case: Any, fuzz_site: Site) -> None:
    case.call_and_validate(checks=[not_a_server_error])


# -- a real browser against a real server --------------------------------------------------

CHROMIUM, CHROMEDRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        line = "no chromium/chromedriver for the browser tests: apt-get install chromium chromium-driver"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(line)
        pytest.skip(line)
    from selenium import webdriver

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1024,768", "--lang=en-US"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    driver = webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("web-live")).start()
    try:
        add_source(srv.db, "site", "web")
        yield srv
    finally:
        srv.kill()


def fill_and_send(driver: Any, url: str, photo: Path | None = None, **fields: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver.get(url + "/new")
    for name in ("title", "description", "contact"):
        driver.find_element(By.ID, name).send_keys(fields[name])
    product = driver.find_element(By.ID, "product")
    if product.tag_name == "select":
        Select(product).select_by_value("")
    else:
        product.send_keys(fields["product"])
    if photo is not None:
        driver.find_element(By.ID, "photo").send_keys(str(photo))
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "key"))


def test_a_customer_reports_in_a_real_browser_and_a_device_sees_it(live: Server, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    photo = tmp_path / "router.png"
    photo.write_bytes(png((320, 240)))
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    fields = {"title": "Router lights are off", "description": "Since the storm last night",
              "contact": "ada@example.org", "product": "fibre"}
    dana = client(tmp_path, "dana")
    sync.setup(dana, live.url, live.token("dana", "dispatcher"))
    sync.sync(dana)  # before the post: the device pulls its events (a later one would start from a snapshot)
    fill_and_send(browser, live.url, photo, **fields)
    key = browser.find_element(By.ID, "key").text
    link = browser.find_element(By.ID, "status-link").get_attribute("href")
    assert re.fullmatch(r"WEB-\d+", key) and link.startswith(f"{live.url}/s/{key}.") and browser.find_element(
        By.ID, "status-link").text == link

    browser.get(link)
    assert browser.find_element(By.ID, "status").text == "Received: waiting for a technician"
    assert all(v not in browser.page_source for v in (fields["title"], fields["description"], fields["contact"]))

    assert sync.sync(dana)["pulled"] == 2  # created, attached
    shown = tickets.show(dana, key)
    assert (shown["channel"], shown["title"], shown["customer"], shown["product"], shown["status"]) == (
        "web", fields["title"], fields["contact"], "fibre", "new")
    assert [e["sha256"] for e in shown["evidence"]] == [sha]
    assert [(e["type"], e["actor"]) for e in shown["timeline"]] == [("ticket.created", "intake:site"),
                                                                    ("ticket.attached", "intake:site")]

    techs.add(dana, "ana")
    tickets.assign(dana, key, "ana")
    r = sync.sync(dana)
    assert r["rejected"] == [] and r["pending"] == []
    browser.refresh()
    assert browser.find_element(By.ID, "status").text == "A technician is assigned"
    assert [li.text.split(": ", 1)[1] for li in browser.find_elements(By.CSS_SELECTOR, "#history li")] == [
        "Received: waiting for a technician", "A technician is assigned"]
    assert "ana" not in browser.find_element(By.TAG_NAME, "body").text
    dana.close()


def test_the_pages_fit_a_phone(live: Server, browser: Any, tmp_path: Path) -> None:
    """At 390x844 with the phone's rules (mobile emulation honours the viewport
    meta: without it the page would lay out 980 px wide), no page scrolls
    sideways and every field and the button lie within the screen."""
    from selenium.webdriver.common.by import By

    browser.set_window_size(390, 844)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True})
    try:
        fits = ("return [window.innerWidth, document.documentElement.scrollWidth,"
                " Array.from(document.querySelectorAll('input,select,textarea,button,a')).map("
                "e => [e.id || e.tagName, e.getBoundingClientRect().left, e.getBoundingClientRect().right])]")
        browser.get(live.url + "/new")
        inner, scroll, boxes = browser.execute_script(fits)
        assert inner == 390 and scroll <= inner, (inner, scroll)
        assert {b[0] for b in boxes} >= {"title", "description", "contact", "product", "photo", "BUTTON"}
        assert all(0 <= left and right <= inner for _id, left, right in boxes), boxes
        button = browser.find_element(By.CSS_SELECTOR, "button[type=submit]")
        assert button.size["height"] >= 44 and button.size["width"] >= 300  # a thumb's target across the screen
        assert all(browser.find_element(By.ID, f).size["height"] >= 44 for f in ("title", "contact", "product"))

        fill_and_send(browser, live.url, None, title="No dial tone", description="", contact="+44 20 7946 0000", product="copper")
        link = browser.find_element(By.ID, "status-link").get_attribute("href")
        for url in (None, link):  # the answer with its long link, then the status page
            if url:
                browser.get(url)
            inner, scroll, boxes = browser.execute_script(fits)
            assert scroll <= inner and all(right <= inner for _id, _left, right in boxes), (url, inner, scroll, boxes)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        browser.set_window_size(1024, 768)
