"""core.roles: who may do what, and what a technician's device never receives."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from ticketctl.core import roles
from ticketctl.core.model import Ticket

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)


@given(phone=text, title=text, comment=text)
def test_redacting_the_text_equals_redacting_the_parsed_ticket(phone: str, title: str, comment: str) -> None:
    """The snapshot is redacted on its JSON text: it must give exactly what
    redacting each parsed ticket gives, whatever the strings hold."""
    tickets = [{"key": "ABC-1", "phone": phone, "title": title, "description": f'"phone":"{comment}"'},
               {"key": "ABC-2", "phone": "", "title": comment, "block": {"note": phone}}]
    compact = ",".join(json.dumps(t, separators=(",", ":"), sort_keys=True) for t in tickets)
    redacted = json.loads(f"[{roles.redact_json(compact, 'technician')}]")
    assert redacted == [roles.redact_ticket(t, "technician") for t in tickets]
    assert roles.redact_json(compact, "dispatcher") == compact


def test_a_technician_works_only_their_own_tickets() -> None:
    t = Ticket(key="ABC-1", title="x", type="repair", dept="fac", product="hvac", created_at="2026-03-02T09:00:00Z",
               updated_at="2026-03-02T09:00:00Z", assignee="bob")
    assert roles.refusal("technician", "ana", "ticket.start", t, {}) == "ABC-1 is assigned to bob, not to ana"
    assert roles.refusal("technician", "bob", "ticket.start", t, {}) is None
    assert roles.refusal("technician", "ana", "ticket.create", None, {}) is None
    assert roles.refusal("technician", "ana", "ticket.assign", t, {}) == \
        "a technician may not assign: only dispatchers and supervisors may"
    assert roles.refusal("technician", "ana", "tech.update", None, {"name": "bob"}) == \
        "a technician may change only their own roster entry"
    assert roles.refusal("dispatcher", "dan", "ticket.start", t, {}) is None
    assert roles.refusal("guest", "x", "ticket.note", t, {}) == "unknown role 'guest'"
