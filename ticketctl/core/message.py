"""Messages that are data and text at once: English where they are stored, the
reader's language where a human reads them.

A sweep escalation, a dispatch reason, a certificate verdict or a QA finding is
written into events, the notification outbox and ``--json`` output, where it
stays English (scripts and other devices read it), and it is shown to people,
who should read it in their language. A :class:`Message` is both: it *is* the
English text (a ``str``, so events, JSON and every comparison see exactly the
text they saw before), and it carries the msgid it was made from and the
values that filled it, so :func:`render` can fill the translation instead::

    m = msg(N_("{key} blocked for {span}"), key="KQT-1", span=msg(N_("{days}d"), days=3))
    m == "KQT-1 blocked for 3d"           # events, JSON: English
    render(m)                             # zh_CN: "KQT-1 已挂起 3天"

A value that is itself a Message is rendered too; any other value (a key, a
name, a title: data) is put in as it is. Only the object made here carries the
msgid: text read back from the store or from JSON is a plain ``str``, which
:func:`render` leaves alone. Every template must be a literal marked with
``N_()`` where the message is made, so the catalog extractor finds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ticketctl import i18n
from ticketctl.i18n import N_, _


class Message(str):
    """English text that remembers its template and values (see the module doc).

    ``english`` overrides the English text where it is not simply the template
    filled in: a choice shown as its bare name in English and with a label in a
    translation (``render`` in English always gives the English text)."""

    __slots__ = ("template", "args")
    template: str
    args: dict[str, Any]

    def __new__(cls, template: str, args: Mapping[str, Any] | None = None, english: str | None = None) -> Message:
        values = dict(args or {})
        text = template.format(**{k: _english(v) for k, v in values.items()}) if english is None else english
        self = super().__new__(cls, text)
        self.template, self.args = template, values
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # copy, deepcopy and pickle keep the template
        return (Message, (self.template, self.args, str(self)))

    def translated(self, labelled: bool = False) -> str:
        """This message in the current language, not English (:func:`render`
        calls it; a subclass may read its values otherwise, as
        :class:`ticketctl.core.labels.Label` does)."""
        return _(self.template).format(**{k: _rendered(k, v, labelled) for k, v in self.args.items()})

    def __repr__(self) -> str:
        return f"Message({str(self)!r})"


class Listing(tuple[Any, ...]):
    """Values shown as one list: ``a, b, c`` in English, joined the way the
    language joins a list where rendered (each item rendered)."""

    __slots__ = ()

    def __str__(self) -> str:
        return ", ".join(_english(v) for v in self)


def msg(template: str, **args: Any) -> Message:
    """The message ``template`` (a literal marked with ``N_()``) filled with ``args``."""
    return Message(template, args)


def _english(value: Any) -> Any:
    if isinstance(value, Message):
        return str(value)
    if isinstance(value, Listing):
        return str(value)
    return value


def render(text: Any, labelled: bool = False) -> str:
    """``text`` in the current language: a :class:`Message` by its template's
    translation (its values rendered first); anything else as it is. With
    ``labelled``, a value whose placeholder names a labelled kind
    (``i18n.LABELLED``: ``{priority}``, ``{status}``, ``{signer}``...)
    reads as its label (``urgent`` -> 紧急, ``this device`` -> 本设备)."""
    if not isinstance(text, Message | Listing):
        return text if isinstance(text, str) else str(text)
    if i18n.current() == i18n.LANGUAGES[0]:
        return str(text)
    if isinstance(text, Listing):
        return _(LIST_SEPARATOR).join(render(v, labelled) for v in text)
    return text.translated(labelled)


def _rendered(name: str, value: Any, labelled: bool = False) -> Any:
    """A value as the reader reads it: a message rendered, a list item by item, an identifier as
    its label when its placeholder says what it is (``i18n.LABELLED``); with ``labelled``, also
    durations and words (:func:`labelled_value`); other data as it is."""
    if isinstance(value, Listing):
        return _(LIST_SEPARATOR).join(str(_rendered(name, v, labelled)) for v in value)
    if isinstance(value, Message):
        return render(value, labelled)
    return labelled_value(name, value) if labelled and isinstance(value, str) else i18n.labelled(name, value)


#: placeholders whose one-word values are messages themselves (``{held}``: ``unassigned``)
WORD_ARGS = frozenset({"held", "who"})
#: placeholders whose values are durations (:func:`span`'s English: ``2h05``, ``3d 4h``, ``45m``)
DURATION_ARGS = frozenset({"waited", "overdue", "target", "left", "quiet", "blocked_for", "limit", "span", "window"})
_SPAN_TEXT = r"(?:(?P<d>\d+)d(?: (?P<dh>\d+)h)?|(?P<h>\d+)h(?P<hm>\d\d)?|(?P<m>\d+)m)"


def labelled_value(name: str, value: str) -> str:
    """The value of placeholder ``name`` as a person reads it: its label when the
    placeholder names a labelled kind (``i18n.LABELLED``; ``{need}``: statuses
    joined by " or "), a duration in the reader's language when it names a
    duration (:data:`DURATION_ARGS`, English :func:`span` text), a word's
    translation for :data:`WORD_ARGS`, else itself. Also what
    ``i18n.localize(text, value=labelled_value)`` fills stored English with."""
    if name in DURATION_ARGS:
        import re

        m = re.fullmatch(_SPAN_TEXT, value)
        if m is None:
            return value
        n = {k: int(v) for k, v in m.groupdict().items() if v}
        seconds = (n.get("d", 0) * 24 + n.get("dh", 0) + n.get("h", 0)) * 3600 + (n.get("hm", 0) + n.get("m", 0)) * 60
        return render(span(seconds, days="d" in n))
    if name in WORD_ARGS:
        return _(value)
    return str(i18n.labelled(name, value))


def span(seconds: int, days: bool = True) -> Message:
    """``45m``, ``2h``, ``2h05``, ``3d 4h`` (``days=False`` for business time,
    whose days are not 24 h: ``30h``)."""
    s = abs(int(seconds))
    d, rem = divmod(s, 86_400) if days else (0, s)
    h, m = rem // 3600, rem % 3600 // 60
    if d:
        return msg(N_("{sign}{days}d {hours}h"), sign="", days=d, hours=h) if h else msg(N_("{days}d"), days=d)
    if h:
        return msg(N_("{hours}h{minutes}"), hours=h, minutes=f"{m:02d}") if m else msg(N_("{hours}h"), hours=h)
    return msg(N_("{sign}{minutes}m"), sign="", minutes=m)


def inner(text: Any, template: str, arg: str) -> Any:
    """The value ``arg`` of ``text`` when it was made from ``template`` (e.g. the
    reason inside "skipped: {why}"), else ``text`` itself."""
    return text.args[arg] if isinstance(text, Message) and text.template == template else text


#: how a rendered :class:`Listing` joins its items
LIST_SEPARATOR = N_(", ")
