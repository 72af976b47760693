"""Closing with proof (``[proof]``): evidence times, the customer's
confirmation and certificates."""

from __future__ import annotations

from dataclasses import dataclass

from ticketctl.core.config.base import check_duration, doc
from ticketctl.i18n import _


@dataclass
class ProofConfig:
    """Closing with proof: evidence times, the customer's confirmation, certificates."""

    photo_window: str = doc(
        "A photo's EXIF capture time must lie within this long of the check of the item it proves (`5m`).", "5m"
    )
    token_ttl: str = doc("A phone confirmation link (`confirm KEY --qr`) expires after this long (wall time).", "24h")
    url: str = doc(
        "Base URL of the team's server: customers confirm at `{url}/c/{token}`, certificates verify at"
        " `{url}/v/{payload}`. Empty: `confirm --qr` needs `--url`; a certificate's QR holds the bare payload.",
        "",
    )
    solved_at_least: int = doc(
        "A confirmation whose first rating (problem solved, 1-5) is below this says the problem is not solved:"
        " the ticket cannot close on it (reopen it instead).",
        3,
    )
    font: str = doc(
        "A TTF/OTF/TTC font file for certificates whose text the PDF core fonts lack (Chinese): it must have"
        " every character printed (in a collection, the Simplified Chinese face is used). Empty: the"
        " Noto Sans CJK package ticketctl installs (noto-cjk), else the system's CJK fonts (fonts-noto-cjk, macOS, Windows, fc-match).",
        "",
    )


def check_proof(proof: ProofConfig) -> None:
    """Raise ValueError naming the first ``proof.*`` key that is wrong."""
    for k in ("photo_window", "token_ttl"):
        check_duration(f"proof.{k}", getattr(proof, k))
    if proof.url and not proof.url.startswith(("http://", "https://")):
        raise ValueError(_("{key}: {value!r} is not an http(s) URL").format(key="proof.url", value=proof.url))
    if not 1 <= proof.solved_at_least <= 5:
        raise ValueError(_("proof.solved_at_least: must be 1 to 5"))
