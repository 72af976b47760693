"""Evidence files: stored by content hash beside the store, attached to tickets.

:func:`attach` is the technician's command: it reads the file *here* (hash,
size, type, the EXIF capture time of a photo), copies it into the blob folder,
and then runs the mutation :func:`attach_evidence` with those facts as
arguments. The mutation never touches the file system, so the server can run
it again from the arguments alone; sync uploads the blob named by the
``sha256`` argument first (``PUT /blobs/{sha256}``).

Blobs live in ``<data dir>/blobs/<sha[:2]>/<sha>``: a file attached twice, to
one ticket or to many, is stored once. Pillow is imported only to read an
image's type and EXIF time.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from pathlib import Path
from typing import Any

from ticketctl.core import evidence
from ticketctl.core.model import iso
from ticketctl.errors import BadInput
from ticketctl.home import atomic_write
from ticketctl.i18n import _
from ticketctl.services.env import Env
from ticketctl.services.mutations import mutation
from ticketctl.services.tickets import act

#: EXIF tags (the Exif IFD, 0x8769): DateTimeOriginal, OffsetTimeOriginal
EXIF_IFD, DATETIME_ORIGINAL, OFFSET_ORIGINAL = 0x8769, 0x9003, 0x9011
MAX_BYTES = 200 * 1024 * 1024


def blob_dir(env: Env) -> Path:
    return env.home.store_file.parent / "blobs"


def blob_path(env: Env, sha256: str) -> Path:
    """Where the blob with this hash is (or would be) stored."""
    return blob_dir(env) / sha256[:2] / sha256


def inspect_file(path: Path, env: Env) -> dict[str, Any]:
    """The facts of a file the mutation needs: sha256, name, size, mime and, for
    a photo, captured_at (EXIF DateTimeOriginal as ISO UTC, or None)."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise BadInput(_("{path} is not a file").format(path=path))
        if size > MAX_BYTES:
            raise BadInput(_("{path} is {size} MiB; evidence files are at most {max} MiB").format(
                path=path, size=size // 2**20, max=MAX_BYTES // 2**20))
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(_("no file {path!r}").format(path=str(path))) from None
    except OSError as e:
        raise BadInput(_("cannot read {path}: {error}").format(path=path, error=e.strerror)) from None
    facts: dict[str, Any] = {"sha256": hashlib.sha256(data).hexdigest(), "name": path.name, "size": size,
                             "mime": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                             "captured_at": None}
    image = _image_facts(path, env)
    if image is not None:
        facts.update(image)
    return facts


def _image_facts(path: Path, env: Env) -> dict[str, Any] | None:
    """(mime, captured_at) of an image Pillow can open; None for anything else."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            mime = Image.MIME.get(im.format or "", "image/" + (im.format or "unknown").lower())
            exif = im.getexif()
            sub = exif.get_ifd(EXIF_IFD)
            value = sub.get(DATETIME_ORIGINAL) or exif.get(DATETIME_ORIGINAL)
            offset = sub.get(OFFSET_ORIGINAL)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    tz = env.config.business_calendar.tz
    return {"mime": mime, "captured_at": evidence.parse_exif_time(str(value) if value else None,
                                                                   str(offset) if offset else None, tz)}


def store_blob(env: Env, path: Path, sha256: str) -> bool:
    """Copy the file into the blob folder unless a blob with its hash is there;
    True when it was copied now."""
    dest = blob_path(env, sha256)
    if dest.exists():
        return False
    atomic_write(dest, path.read_bytes())
    return True


@mutation("ticket.attach")
def attach_evidence(env: Env, key: str, sha256: str, name: str, size: int, mime: str, item: str | None,
                    captured_at: str | None, at: str) -> dict[str, Any]:
    """Attach the file with hash ``sha256`` (already in the blob folder) and,
    with ``item``, check that item (``core.evidence.decide_attach``). ``at`` is
    when the technician attached it, the time its check takes: the server
    re-runs this later and must judge the photo's time against the same moment."""
    facts = {"sha256": sha256, "name": name, "size": size, "mime": mime, "item": item, "captured_at": captured_at}
    return act(env, key, lambda t: evidence.decide_attach(t, facts, at, env.config))


def attach(env: Env, key: str, path: Path, item: str | None = None) -> dict[str, Any]:
    """Store ``path`` by its hash and attach it to ``key`` (see the module doc).
    Returns the ticket view plus ``attached``: the evidence record as stored.
    A refused attach leaves no new blob behind."""
    facts = inspect_file(path, env)
    exact = env.store.resolve_key(key)
    was_checked = item in env.store.ticket(exact).checks
    fresh = store_blob(env, path, facts["sha256"])
    try:
        out = attach_evidence(env, exact, facts["sha256"], facts["name"], facts["size"], facts["mime"], item,
                              facts["captured_at"], iso(env.now))
    except BaseException:
        if fresh:
            blob_path(env, facts["sha256"]).unlink(missing_ok=True)
        raise
    t = env.store.ticket(exact)
    out["attached"] = t.evidence[-1]
    out["checked"] = item if item is not None and item in t.checks and not was_checked else None
    return out


def blob_exists(env: Env, sha256: str) -> bool:
    return os.path.exists(blob_path(env, sha256))
