"""The mail door end to end: ``ticketctl intake imap`` reads a real IMAP server
(dovecot, started here on a random loopback port with its own config) and hands
each message to a real ``ticketctl server run`` process.

Mail goes into the mailbox with IMAP APPEND, as a mail server's delivery would
put it there; TLS is verified against the certificate generated here
(``--cafile``). What the tests read back: the command's exit code and output,
the keywords on the messages (over IMAP), the server's database, and a second
device's store after ``sync``.

Without dovecot (``apt-get install dovecot-imapd``) these skip with one line;
under ``CI=true`` they fail instead.
"""

from __future__ import annotations

import datetime
import email.policy
import grp
import hashlib
import imaplib
import ipaddress
import json
import os
import pwd
import queue
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from sync_helpers import CLI, Server, client, free_port, server_state

from ticketctl.cli import main
from ticketctl.server.admin import add_source
from ticketctl.services import tickets
from ticketctl.services.env import Env
from ticketctl.sync import client as sync

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
PASSWORD = "s3cret-pässword"
KEYWORD = "$Ticketctl"


# -- a real IMAP server -----------------------------------------------------------------------


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, its own CA (so
    ``--cafile`` can trust it), and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ticketctl test IMAP")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return cert_file, key_file


class Dovecot:
    """A running dovecot (one per module: it takes a second to stop), listening
    on 127.0.0.1 for IMAP over TLS and for IMAP with STARTTLS. Each test gets a
    user of its own (:meth:`add_user`), so each starts from an empty INBOX whose
    UIDs count from 1."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.imaps_port, self.imap_port = free_port(), free_port()
        self.cafile, key = _certificate(folder)
        # the mail user may not be root (dovecot refuses UID 0 in a passwd-file): as root, nobody
        self.owner = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        self.passwd = folder / "users"  # a passwd-file per user: users/NAME
        self.passwd.mkdir()
        self.passwd.chmod(0o755)
        self.users = 0
        conf = folder / "dovecot.conf"
        conf.write_text(_config(folder, self.imaps_port, self.imap_port, self.cafile, key, self.passwd, self.owner.pw_uid),
                        encoding="utf-8")
        self.proc = subprocess.Popen([str(DOVECOT), "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def add_user(self) -> Inbox:
        self.users += 1
        user = f"support{self.users}"
        home = self.folder / "homes" / user
        home.mkdir(parents=True)
        os.chown(home, self.owner.pw_uid, self.owner.pw_gid)
        entry = self.passwd / user
        entry.write_text(f"{user}:{{PLAIN}}{PASSWORD}:{self.owner.pw_uid}:{self.owner.pw_gid}::{home}::\n", encoding="utf-8")
        entry.chmod(0o644)  # read by the auth process, which runs as dovecot (a test password)
        return Inbox(self, user)

    def wait(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                log = self.folder / "dovecot.log"
                raise RuntimeError(f"dovecot exited: {err}{log.read_text() if log.exists() else ''}")
            try:
                imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=ssl.create_default_context(cafile=str(self.cafile)),
                                  timeout=5).logout()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("dovecot did not answer within 20 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Inbox:
    """One user's INBOX on the dovecot, reached over IMAP only."""

    server: Dovecot
    user: str

    @property
    def imaps_port(self) -> int:
        return self.server.imaps_port

    @property
    def imap_port(self) -> int:
        return self.server.imap_port

    @property
    def cafile(self) -> Path:
        return self.server.cafile

    def connect(self) -> imaplib.IMAP4_SSL:
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=ssl.create_default_context(cafile=str(self.cafile)),
                                 timeout=10)
        imap.authenticate("PLAIN", lambda _challenge: f"\0{self.user}\0{PASSWORD}".encode())
        imap.select("INBOX")
        return imap

    def append(self, *messages: bytes, mailbox: str = "INBOX") -> None:
        """Deliver ``messages`` (``mailbox``: a name as IMAP spells it, modified UTF-7, created if missing)."""
        imap = self.connect()
        try:
            if mailbox != "INBOX":
                imap.create(mailbox)
            for raw in messages:
                typ, data = imap.append(mailbox, None, None, raw)
                assert typ == "OK", data
        finally:
            imap.logout()

    def flags(self) -> dict[int, set[str]]:
        """Every message's flags and keywords, by UID."""
        imap = self.connect()
        try:
            typ, data = imap.uid("FETCH", "1:*", "(FLAGS)")
            assert typ == "OK", data
        finally:
            imap.logout()
        out: dict[int, set[str]] = {}
        for line in data:
            if isinstance(line, bytes):
                parsed = imaplib.ParseFlags(line)
                uid = int(line.split(b"UID ")[1].split()[0])
                out[uid] = {f.decode() for f in parsed} - {"\\Recent"}
        return out

    def unflag_all(self) -> None:
        """What a crash between the hand-over and the flag leaves: the messages without the keyword."""
        imap = self.connect()
        try:
            typ, data = imap.uid("STORE", "1:*", "-FLAGS.SILENT", f"({KEYWORD})")
            assert typ == "OK", data
        finally:
            imap.logout()


def _no_dovecot(line: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(line, pytrace=False)
    pytest.skip(line)


def _config(folder: Path, imaps_port: int, imap_port: int, cert: Path, key: Path, passwd: Path, mail_uid: int) -> str:
    """dovecot.conf for the users in the folder ``passwd`` (a passwd-file each: a new
    path is read when first asked for, where one file's changes might not be), mail
    under ``folder``, 127.0.0.1 only.

    Run as root (as here and in CI), dovecot keeps its defaults: the login
    processes run chrooted as ``dovenull``, the auth process as ``dovecot``
    (``default_login_user``, ``default_internal_user``). Those two must be able to
    reach the folder (hence a 0755 folder of its own, not pytest's 0700 tmp_path)
    and the auth process must read the users file (0644); the mailboxes belong
    to ``nobody``.

    Run as anyone else, dovecot can neither chroot nor switch users or groups:
    both users and ``default_internal_group`` (which owns its sockets) must be the
    current user's, chroot is switched off for the services that use it (anvil,
    imap-login), and the mailboxes belong to the current user, whose UID
    ``first_valid_uid`` must let through.
    """
    if os.geteuid() == 0:
        users, extra = "", ""
    else:
        me = pwd.getpwuid(os.geteuid())
        group = grp.getgrgid(me.pw_gid).gr_name
        users = f"default_internal_user = {me.pw_name}\ndefault_internal_group = {group}\ndefault_login_user = {me.pw_name}\n"
        extra = "\n".join(f"service {s} {{\n  chroot =\n}}" for s in ("anvil", "imap-login")) + "\n"
    return f"""# ticketctl's tests: maildir users, 127.0.0.1 only
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
{users}first_valid_uid = {min(mail_uid, 500)}
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {passwd}/%n
}}
userdb {{
  driver = passwd-file
  args = username_format=%n {passwd}/%n
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
    ssl = yes
  }}
}}
{extra}"""


@pytest.fixture(scope="module")
def dovecot_server() -> Iterator[Dovecot]:
    if DOVECOT is None:
        _no_dovecot("dovecot is not installed: apt-get install dovecot-imapd")
    folder = Path(tempfile.mkdtemp(prefix="ticketctl-dovecot-"))
    folder.chmod(0o755)
    try:
        server = Dovecot(folder)
        try:
            server.wait()
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def dovecot(dovecot_server: Dovecot) -> Inbox:
    return dovecot_server.add_user()


# -- the ticketctl server and the command ------------------------------------------------------


@dataclass
class Team:
    server: Server
    token: str  # the imap source's

    def state(self) -> Any:
        return server_state(Path(self.server.db.removeprefix("sqlite:///")))


@pytest.fixture
def team(tmp_path: Path) -> Iterator[Team]:
    srv = Server(tmp_path)
    (srv.home / "config.toml").write_text("[intake]\nmax_mail_kb = 64\n", encoding="utf-8")
    srv.start()
    try:
        yield Team(srv, add_source(srv.db, "support", "imap")["token"])
    finally:
        srv.kill()


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


class Intake:
    """``ticketctl intake imap`` in process (``main`` with an Env, as tests/test_cli.py
    runs commands), pointed at the dovecot and the server; the password comes
    from the environment as a cron job would give it."""

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str], mail: Inbox, team: Team | None):
        self.capsys, self.mail, self.team = capsys, mail, team
        self.environ = {"TICKETCTL_HOME": str(tmp_path / "intake-home"), "TICKETCTL_IMAP_PASSWORD": PASSWORD}
        if team is not None:
            self.environ["TICKETCTL_INTAKE_TOKEN"] = team.token

    def args(self, *extra: str, port: int | None = None) -> list[str]:
        url = self.team.server.url if self.team else "http://127.0.0.1:9"
        return ["intake", "imap", "--host", "127.0.0.1", "--port", str(port or self.mail.imaps_port), "--user", self.mail.user,
                "--cafile", str(self.mail.cafile), "--server", url, *extra]

    def __call__(self, *extra: str, port: int | None = None, args: list[str] | None = None, **environ: str) -> Result:
        self.capsys.readouterr()
        code = main(args if args is not None else self.args(*extra, port=port), env=Env.from_environ({**self.environ, **environ}))
        out, err = self.capsys.readouterr()
        return Result(code, out, err)


@pytest.fixture
def intake(tmp_path: Path, capsys: pytest.CaptureFixture[str], dovecot: Inbox, team: Team) -> Intake:
    return Intake(tmp_path, capsys, dovecot, team)


def mail(subject: str | None, text: str, mid: str | None, *, reply_to: str | None = None, sender: str = "Li Wei <li.wei@example.com>",
         html: str | None = None, files: tuple[tuple[str, str, bytes], ...] = ()) -> bytes:
    m = EmailMessage(policy=email.policy.SMTP)
    m["From"] = sender
    m["To"] = "support@example.com"
    if subject is not None:
        m["Subject"] = subject
    if mid is not None:
        m["Message-ID"] = mid
    if reply_to is not None:
        m["In-Reply-To"] = reply_to
        m["References"] = reply_to
    m["Date"] = "Wed, 03 Dec 2026 09:00:00 +0000"
    if html is None:
        m.set_content(text)
    else:
        m.set_content(html, subtype="html")
    for name, mime, data in files:
        maintype, subtype = mime.split("/")
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes()


THREE = (
    mail("Printer on floor 3 jams", "It jams on every second page.", "<m1@example.com>"),
    mail("No VPN from home", "The VPN client says the certificate expired.", "<m2@example.com>",
         sender="=?utf-8?b?546L6Iqz?= <wang.fang@example.com>"),
    mail("Projector in room 2 flickers", "Flickers after ten minutes.", "<m3@example.com>"),
)
REPLY = mail("Re: No VPN from home", "Still broken this morning, I attached nothing.", "<m4@example.com>",
             reply_to="<m2@example.com>")


def events(team: Team) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """The server's events per ticket: (type, actor, payload)."""
    _tickets, evs, _results = team.state()
    return {k: [(e.type, e.actor, e.payload) for e in v] for k, v in evs.items()}


# -- the tests ------------------------------------------------------------------------------------


def test_three_mails_and_a_reply_give_three_tickets_and_a_note_and_a_second_run_changes_nothing(
        intake: Intake, dovecot: Inbox, team: Team) -> None:
    dovecot.append(*THREE, REPLY)

    r = intake("--json")
    assert (r.code, r.err) == (0, "")
    summary = r.json
    assert {k: summary[k] for k in ("mailbox", "opened", "noted", "duplicates", "skipped")} == {
        "mailbox": "INBOX", "opened": ["MAIL-1", "MAIL-2", "MAIL-3"], "noted": ["MAIL-2"], "duplicates": [], "skipped": []}
    assert [(m["uid"], m["message_id"], m["outcome"], m["ticket"]) for m in summary["messages"]] == [
        (1, "<m1@example.com>", "opened", "MAIL-1"), (2, "<m2@example.com>", "opened", "MAIL-2"),
        (3, "<m3@example.com>", "opened", "MAIL-3"), (4, "<m4@example.com>", "noted", "MAIL-2")]

    ts, _evs, _res = team.state()
    assert sorted(ts) == ["MAIL-1", "MAIL-2", "MAIL-3"]
    vpn = ts["MAIL-2"]
    assert (vpn.title, vpn.customer, vpn.channel, vpn.description) == (
        "No VPN from home", "王芳 <wang.fang@example.com>", "email", "The VPN client says the certificate expired.")
    before = events(team)
    assert [(t, a) for t, a, _p in before["MAIL-2"]] == [("ticket.created", "intake:support"), ("ticket.noted", "intake:support")]
    assert before["MAIL-2"][1][2]["text"] == "mail from Li Wei <li.wei@example.com>: Still broken this morning, I attached nothing."
    assert [t for t, _a, _p in before["MAIL-1"]] == [t for t, _a, _p in before["MAIL-3"]] == ["ticket.created"]
    assert dovecot.flags() == {1: {KEYWORD}, 2: {KEYWORD}, 3: {KEYWORD}, 4: {KEYWORD}}  # and not \Seen: nobody read them

    again = intake()
    assert (again.code, again.out, again.err) == (0, "", "mailbox INBOX: opened 0, noted 0, duplicates 0, skipped 0\n")
    assert events(team) == before


def test_an_attachment_arrives_as_evidence_and_a_second_device_sees_the_mail_tickets(
        intake: Intake, dovecot: Inbox, team: Team, tmp_path: Path) -> None:
    photo = os.urandom(40_000)
    dovecot.append(
        mail("Cracked screen on till 4", "", "<photo@example.com>", html="<html><head><style>p {}</style></head><body>"
             "<p>The screen is <b>cracked</b>&nbsp;&amp; dark.</p><p>Photo attached.</p></body></html>",
             files=(("till-4.jpg", "image/jpeg", photo),)),
        *THREE[:1])
    dana = client(tmp_path, "dana")
    sync.setup(dana, team.server.url, team.server.token("dana", "dispatcher"))
    sync.sync(dana)  # set up before the mail: it pulls the events (a later one starts from a snapshot, without a timeline)
    r = intake("--json")
    assert (r.code, r.json["opened"]) == (0, ["MAIL-1", "MAIL-2"])
    assert sync.sync(dana)["pulled"] >= 3
    seen = tickets.listing(dana)
    assert sorted((t["key"], t["channel"]) for t in seen) == [("MAIL-1", "email"), ("MAIL-2", "email")]
    till = tickets.show(dana, "MAIL-1")
    assert (till["title"], till["description"]) == ("Cracked screen on till 4", "The screen is cracked & dark.\n\nPhoto attached.")
    sha = hashlib.sha256(photo).hexdigest()
    assert [(e["sha256"], e["name"], e["size"], e["mime"]) for e in till["evidence"]] == [(sha, "till-4.jpg", len(photo), "image/jpeg")]
    blob = httpx.get(f"{team.server.url}/blobs/{sha}", headers={"Authorization": f"Bearer {sync.load_settings(dana)['token']}"})
    assert blob.status_code == 200 and hashlib.sha256(blob.content).hexdigest() == sha
    assert {e["actor"] for e in till["timeline"]} == {"intake:support"}
    dana.close()


def test_a_key_in_the_subject_notes_that_ticket(intake: Intake, dovecot: Inbox, team: Team) -> None:
    dovecot.append(THREE[0])
    assert intake("--json").json["opened"] == ["MAIL-1"]
    dovecot.append(mail("Re: [MAIL-1] Printer on floor 3 jams", "Now it jams on every page.", "<later@example.com>"),
                   mail("[MAIL-99] a key nobody has", "Opens a ticket of its own.", "<stray@example.com>"))

    r = intake("--json")
    assert (r.code, r.json["opened"], r.json["noted"]) == (0, ["MAIL-2"], ["MAIL-1"])
    assert [t for t, _a, _p in events(team)["MAIL-1"]] == ["ticket.created", "ticket.noted"]
    assert "Now it jams on every page." in events(team)["MAIL-1"][1][2]["text"]


def test_a_mail_the_server_refuses_is_named_on_stderr_flagged_and_skipped(intake: Intake, dovecot: Inbox, team: Team) -> None:
    big = os.urandom(100 * 1024)  # over the server's intake.max_mail_kb = 64
    dovecot.append(mail(None, "No subject here.", "<nosubject@example.com>"),
                   mail("Logs of the outage", "See the log.", "<big@example.com>",
                        files=(("outage.log", "application/octet-stream", big),)),
                   THREE[0])

    r = intake()
    assert (r.code, r.out) == (0, "")
    assert r.err.splitlines() == [
        "ticketctl: skipped message <nosubject@example.com> (UID 1, subject ''): 422 a mail without a subject opens no ticket",
        "ticketctl: skipped message <big@example.com> (UID 2, subject 'Logs of the outage'): 413 the mail is larger than"
        " intake.max_mail_kb (64 KiB)",
        "mailbox INBOX: opened 1, noted 0, duplicates 0, skipped 2"]
    assert dovecot.flags() == {1: {KEYWORD}, 2: {KEYWORD}, 3: {KEYWORD}}
    assert sorted(team.state()[0]) == ["MAIL-1"]
    assert intake().err == "mailbox INBOX: opened 0, noted 0, duplicates 0, skipped 0\n"


def test_a_mail_over_the_doors_body_limit_is_skipped_too(intake: Intake, dovecot: Inbox, team: Team) -> None:
    """Over the request size the server reads at all (refused before the body is read)."""
    huge = os.urandom(600 * 1024)
    dovecot.append(mail("Disk image", "Attached.", "<huge@example.com>", files=(("disk.img", "application/octet-stream", huge),)))
    r = intake("--json")
    assert r.code == 0, r.err
    assert [(s["uid"], s["reason"].split()[0]) for s in r.json["skipped"]] == [(1, "413")]
    assert dovecot.flags() == {1: {KEYWORD}}
    assert team.state()[0] == {}


def test_a_crash_between_hand_over_and_flag_opens_nothing_twice(intake: Intake, dovecot: Inbox, team: Team) -> None:
    dovecot.append(*THREE, REPLY)
    assert intake("--json").json["opened"] == ["MAIL-1", "MAIL-2", "MAIL-3"]
    before = events(team)
    dovecot.unflag_all()  # as if each pass had died after its POST, before its STORE
    assert dovecot.flags() == {1: set(), 2: set(), 3: set(), 4: set()}

    r = intake("--json")
    assert r.code == 0, r.err
    assert (r.json["opened"], r.json["noted"], r.json["duplicates"]) == ([], [], ["MAIL-1", "MAIL-2", "MAIL-3", "MAIL-2"])
    assert events(team) == before
    assert dovecot.flags() == {1: {KEYWORD}, 2: {KEYWORD}, 3: {KEYWORD}, 4: {KEYWORD}}


def test_a_wrong_token_stops_with_one_error_line_and_leaves_the_messages_unflagged(
        intake: Intake, dovecot: Inbox, team: Team, tmp_path: Path) -> None:
    """Through the installed entry point, as cron runs it."""
    dovecot.append(*THREE)
    env = {**os.environ, **intake.environ, "TICKETCTL_INTAKE_TOKEN": "not-the-token"}
    proc = subprocess.run([*CLI, *intake.args()], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == ("ticketctl: error: the server refused the intake token: unknown token (a source of kind imap:"
                           " `ticketctl server add-source NAME --kind imap`)\n")
    assert dovecot.flags() == {1: set(), 2: set(), 3: set()}
    assert team.state()[0] == {}

    token_file = tmp_path / "intake.token"
    token_file.write_text(team.token + "\n", encoding="utf-8")
    r = intake("--token-file", str(token_file), "--json", TICKETCTL_INTAKE_TOKEN="")
    assert (r.code, r.json["opened"]) == (0, ["MAIL-1", "MAIL-2", "MAIL-3"])


def test_an_unreachable_server_stops_with_exit_3_and_leaves_the_messages_unflagged(intake: Intake, dovecot: Inbox) -> None:
    dovecot.append(THREE[0])
    url = f"http://127.0.0.1:{free_port()}"
    args = intake.args()
    args[args.index("--server") + 1] = url
    r = intake(args=args)
    assert (r.code, r.out) == (3, "")
    assert r.err == (f"ticketctl: error: the server at {url} is unreachable (ConnectError); the mail stays in the mailbox"
                     " for the next pass\n")
    assert dovecot.flags() == {1: set()}


def test_watch_prints_a_line_per_pass_and_ends_cleanly_on_ctrl_c(intake: Intake, dovecot: Inbox, team: Team) -> None:
    dovecot.append(THREE[0])
    env = {**os.environ, **intake.environ}
    proc = subprocess.Popen([*CLI, *intake.args("--watch", "--every", "1")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    stderr = proc.stderr
    assert stderr is not None

    def read() -> None:
        for line in iter(stderr.readline, ""):
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        seen = [lines.get(timeout=30)]
        dovecot.append(THREE[1])
        while "opened 1" not in seen[-1] or len(seen) == 1:
            seen.append(lines.get(timeout=30))
        proc.send_signal(signal.SIGINT)
        code = proc.wait(30)
        reader.join(10)
        out = proc.stdout.read() if proc.stdout else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert seen[0] == seen[-1] == "mailbox INBOX: opened 1, noted 0, duplicates 0, skipped 0\n"
    assert set(seen[1:-1]) <= {"mailbox INBOX: opened 0, noted 0, duplicates 0, skipped 0\n"}
    assert (code, out, lines.empty()) == (0, "", True)  # Ctrl-C: no traceback, no "interrupted"
    assert sorted(team.state()[0]) == ["MAIL-1", "MAIL-2"]


# -- connecting: TLS, STARTTLS, logins ---------------------------------------------------------


@pytest.fixture
def nowhere(tmp_path: Path, capsys: pytest.CaptureFixture[str], dovecot: Inbox) -> Intake:
    """The command against dovecot with an empty mailbox: it never needs to reach a ticketctl server."""
    intake = Intake(tmp_path, capsys, dovecot, None)
    intake.environ["TICKETCTL_INTAKE_TOKEN"] = "unused"
    return intake


EMPTY = "mailbox INBOX: opened 0, noted 0, duplicates 0, skipped 0\n"


def test_starttls_is_verified_too(nowhere: Intake, dovecot: Inbox) -> None:
    assert nowhere("--starttls", port=dovecot.imap_port).err == EMPTY
    args = [a for a in nowhere.args("--starttls", port=dovecot.imap_port) if a not in ("--cafile", str(dovecot.cafile))]
    r = nowhere(args=args)
    assert (r.code, r.err) == (1, f"ticketctl: error: the mail server 127.0.0.1:{dovecot.imap_port} has a certificate this"
                                  " machine does not trust (self-signed certificate); --cafile FILE trusts a private CA\n")


def test_an_untrusted_certificate_is_refused_unless_insecure_says_so(nowhere: Intake, dovecot: Inbox) -> None:
    args = [a for a in nowhere.args() if a not in ("--cafile", str(dovecot.cafile))]
    r = nowhere(args=args)
    assert (r.code, r.out) == (1, "")
    assert r.err == (f"ticketctl: error: the mail server 127.0.0.1:{dovecot.imaps_port} has a certificate this machine does not"
                     " trust (self-signed certificate); --cafile FILE trusts a private CA\n")
    r = nowhere(args=[*args, "--insecure"])
    assert (r.code, r.err) == (0, "ticketctl: warning: --insecure: the certificate of 127.0.0.1 is not verified; whoever is in"
                                  " between can read the password and the mail\n" + EMPTY)


def test_a_wrong_password_and_a_missing_mailbox_are_one_line_each(nowhere: Intake, dovecot: Inbox, tmp_path: Path) -> None:
    secret = tmp_path / "imap.pass"
    secret.write_text("wrong\n", encoding="utf-8")
    r = nowhere("--password-file", str(secret))
    assert (r.code, r.err) == (1, f"ticketctl: error: the mail server 127.0.0.1:{dovecot.imaps_port} refused the login of"
                                  f" {dovecot.user}: [AUTHENTICATIONFAILED] Authentication failed.\n")
    r = nowhere("--mailbox", "归档")  # dovecot names it back decoded: the name went over in IMAP's UTF-7
    assert r.code == 1 and r.err.startswith(f"ticketctl: error: the mail server 127.0.0.1:{dovecot.imaps_port} has no mailbox"
                                            " '归档': Mailbox doesn't exist: 归档 (") and r.err.count("\n") == 1, r.err
    r = nowhere(TICKETCTL_IMAP_PASSWORD="")
    assert (r.code, r.err) == (2, "ticketctl: error: give --password-file FILE or set TICKETCTL_IMAP_PASSWORD\n")


def test_a_mailbox_with_a_chinese_name(intake: Intake, dovecot: Inbox, team: Team) -> None:
    dovecot.append(THREE[0], mailbox="&ZTZO9nux-")  # 收件箱, as IMAP spells it (RFC 3501 5.1.3)
    r = intake("--mailbox", "收件箱", "--json")
    assert (r.code, r.json["mailbox"], r.json["opened"]) == (0, "收件箱", ["MAIL-1"]), r.err


def test_plain_text_goes_only_to_this_machine(nowhere: Intake, dovecot: Inbox) -> None:
    plain = [a for a in nowhere.args("--plain", port=dovecot.imap_port) if a not in ("--cafile", str(dovecot.cafile))]
    assert nowhere(args=plain).err == EMPTY  # 127.0.0.1: dovecot counts loopback as secured
    plain[plain.index("--host") + 1] = "192.0.2.10"
    r = nowhere(args=plain)
    assert (r.code, r.err) == (2, "ticketctl: error: --plain sends the password in clear text: only to this machine (127.0.0.1,"
                                  " ::1, localhost), not to 192.0.2.10\n")


def test_a_message_without_a_message_id_is_handed_over_once(intake: Intake, dovecot: Inbox, team: Team) -> None:
    raw = mail("Badge reader at the door is dead", "Nobody can get in.", None)
    dovecot.append(raw)
    first = intake("--json").json
    dovecot.unflag_all()
    second = intake("--json").json
    assert first["opened"] == second["duplicates"] == ["MAIL-1"]
    assert first["messages"][0]["message_id"] == second["messages"][0]["message_id"]
    assert first["messages"][0]["message_id"].endswith("@ticketctl.invalid>")
