"""Modal dialogs: each gathers what one action needs and returns it (or None
when the dispatcher backs out with Escape); the app then calls the service."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ticketctl.cells import cells, ljust
from ticketctl.core.config.workflow import BLOCK_FIELDS
from ticketctl.core.dispatch import why_skipped
from ticketctl.core.labels import HasLabels, label
from ticketctl.core.message import LIST_SEPARATOR, render
from ticketctl.core.model import OutOfRange, out_of_range, parse_moment
from ticketctl.i18n import N_, _, current

#: the block fields' input placeholders (the names stay the config's words)
FIELD_LABELS = {"collaborator": N_("collaborator"), "deliverable": N_("deliverable"), "deadline": N_("deadline"),
                "expected_result": N_("expected result"), "note": N_("note")}


def field_label(name: str) -> str:
    """A block field (``collaborator``, ``expected_result``) as a person reads it."""
    return _(FIELD_LABELS[name]) if name in FIELD_LABELS else name.replace("_", " ")


DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 96; max-width: 100%; height: auto; max-height: 90%; border: thick $primary; background: $panel;
                     padding: 0 1; }}
{name} .title {{ text-style: bold; margin-bottom: 1; }}
{name} .hint {{ color: $text-muted; margin-top: 1; }}
{name} OptionList {{ height: auto; max-height: 24; }}
{name} .error {{ color: $error; text-style: bold; display: none; }}
{name} .error.shown {{ display: block; }}
"""


def show_error(screen: ModalScreen[Any], text: str) -> None:
    """The dialog's own error line (``.error``): shown under its fields; the dialog stays open with what was typed."""
    line = screen.query_one(".error", Static)
    line.update(text)
    line.set_class(bool(text), "shown")


def block_problem(needs: list[str], details: dict[str, str]) -> str | None:
    """What keeps a block's fields from being recorded, in the dashboard's
    words (the fields as the dialog names them, never an option): a required
    field left empty, a deadline that is not a date or time."""
    missing = [f for f in needs if not details.get(f)]
    if missing:
        return _("still needed: {fields}").format(fields=_(LIST_SEPARATOR).join(field_label(f) for f in missing))
    deadline = details.get("deadline")
    if deadline:
        try:
            parse_moment(deadline)
        except OutOfRange:
            return out_of_range(f"{field_label('deadline')} {deadline!r}")
        except ValueError:
            return _("the deadline {value!r} is not a date or time like 2026-03-05T17:00").format(value=deadline)
    return None


class AssignDialog(ModalScreen[str | None]):
    """Technicians as the dispatch engine ranks them for one ticket, best
    first, each with its reason; Enter assigns the one under the cursor."""

    DEFAULT_CSS = DIALOG_CSS.format(name="AssignDialog")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "cancel")]

    def __init__(self, explain: dict[str, Any]) -> None:
        super().__init__()
        self.explain = explain

    def compose(self) -> ComposeResult:
        r = self.explain
        options = []
        eligible, skipped = _("eligible"), _("skipped")
        w = max(cells(eligible), cells(skipped))
        for c in r["candidates"]:
            verdict = Text(ljust(eligible, w), style="green") if c["verdict"] == "eligible" else Text(ljust(skipped, w), style="dim")
            line = Text.assemble((ljust(c["name"], 10), "bold" if c["name"] == r["best"] else ""), " ", verdict,
                                 f" {c['load']}/{c['capacity']}  ", (render(why_skipped(c["reason"])), "dim"))
            options.append(Option(line, id=c["name"]))
        with Vertical():
            yield Label(_("Assign {key}  (policy {policy}; best: {best})").format(
                key=r["key"], policy=label("policy", r["policy"]), best=r["best"] or _("nobody is eligible")), classes="title")
            yield OptionList(*options, id="candidates")
            yield Label(_("Enter assigns (a skipped technician: after a confirmation and a reason), Escape cancels"), classes="hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class BlockDialog(ModalScreen[tuple[str, dict[str, str]] | None]):
    """The reason menu from the config; a reason that needs the collaboration
    fields (collaborator, deliverable, deadline, expected result) asks for them."""

    DEFAULT_CSS = DIALOG_CSS.format(name="BlockDialog") + "BlockDialog .fields { height: auto; display: none; }"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "cancel")]

    def __init__(self, key: str, reasons: dict[str, tuple[str, list[str]]], cfg: HasLabels | None = None) -> None:
        super().__init__()
        self.key = key
        self.reasons = reasons
        self.cfg = cfg
        self.reason: str | None = None

    def entry(self, name: str, menu: str) -> str:
        """A reason as the menu shows it: its label, and the identifier a
        command line takes where that is English (``Awaiting parts  (awaiting_parts)``);
        in Chinese the label only (the team's, the built-in one, else the menu's)."""
        own = label("reason", name, self.cfg)
        if current() == "zh_CN":
            return own if own != name else (_(menu) if menu else name)
        return f"{own if own != name else (_(menu) if menu else name)}  ({name})"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(_("Block {key}: why?").format(key=self.key), classes="title")
            yield OptionList(*(Option(self.entry(name, menu), id=name) for name, (menu, _fields) in self.reasons.items()),
                             id="reasons")
            with Vertical(classes="fields"):
                for f in (*BLOCK_FIELDS, "note"):
                    hint = "YYYY-MM-DDTHH:MM" if f == "deadline" else ""
                    yield Input(placeholder=f"{field_label(f)} {hint}".strip(), id=f"f-{f}")
            yield Static("", classes="error")
            yield Label(_("Enter picks a reason; in the fields Enter moves on, the last one blocks"), classes="hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.reason = event.option.id
        assert self.reason is not None
        needs = self.reasons[self.reason][1]
        if not needs:
            self.dismiss((self.reason, {}))
            return
        box = self.query_one(".fields")
        box.styles.display = "block"
        for f in BLOCK_FIELDS:
            self.query_one(f"#f-{f}", Input).display = f in needs
        self.query_one(f"#f-{needs[0]}", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        inputs = [i for i in self.query(Input) if i.display]
        i = inputs.index(event.input)
        if i + 1 < len(inputs):
            inputs[i + 1].focus()
            return
        assert self.reason is not None
        details = {i.id.removeprefix("f-"): i.value.strip() for i in inputs if i.id and i.value.strip()}
        problem = block_problem(self.reasons[self.reason][1], details)
        if problem:  # stay open with every field as typed; the cursor goes to the field to mend
            show_error(self, problem)
            bad = next((f for f in self.reasons[self.reason][1] if f not in details), "deadline")
            self.query_one(f"#f-{bad}", Input).focus()
            return
        self.dismiss((self.reason, details))


class PromptDialog(ModalScreen[str | None]):
    """One line of text (a note, a resolution note, an escalation message)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="PromptDialog")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "cancel")]

    def __init__(self, title: str, placeholder: str = "", optional: bool = False) -> None:
        super().__init__()
        self.title_text, self.placeholder, self.optional = title, placeholder, optional

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Input(placeholder=self.placeholder, id="text")
            yield Static("", classes="error")
            yield Label(_("Enter to confirm (may stay empty), Escape cancels") if self.optional
                        else _("Enter to confirm, Escape cancels"), classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() or self.optional:
            self.dismiss(event.value.strip())
        else:
            show_error(self, _("this cannot stay empty (Escape cancels)"))


class ForceAssignDialog(ModalScreen[str | None]):
    """Assigning a technician the dispatch engine skipped (at capacity, away
    with no delegate, lacking a skill): a confirmation and the reason, which
    the assignment records with ``forced``, as ``assign --force`` does."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ForceAssignDialog")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "cancel")]

    def __init__(self, key: str, candidate: dict[str, Any]) -> None:
        super().__init__()
        self.key, self.candidate = key, candidate

    def compose(self) -> ComposeResult:
        c = self.candidate
        with Vertical():
            yield Label(_("Assign {key} to {name} anyway? Dispatch skipped them: {why} (load {load}/{capacity})").format(
                key=self.key, name=c["name"], why=render(why_skipped(c["reason"])), load=c["load"], capacity=c["capacity"]),
                classes="title")
            yield Input(placeholder=_("why (recorded with the assignment)"), id="reason")
            yield Static("", classes="error")
            yield Label(_("Enter assigns anyway, recorded as forced with the reason; Escape cancels"), classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())
        else:
            show_error(self, _("a reason is needed: it is recorded with the forced assignment"))


class DispatchDialog(ModalScreen[bool]):
    """``dispatch auto --dry-run`` shown before it is done for real: who would
    get what and why, and what stays unassigned."""

    DEFAULT_CSS = DIALOG_CSS.format(name="DispatchDialog") + "DispatchDialog VerticalScroll { height: auto; max-height: 30; }"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "dismiss(True)", "dispatch"),
        Binding("n,escape", "dismiss(False)", "cancel"),
    ]
    SHOWN = 200

    def __init__(self, preview: dict[str, Any]) -> None:
        super().__init__()
        self.preview = preview

    def compose(self) -> ComposeResult:
        p = self.preview
        lines = Text()
        for a in p["assigned"][: self.SHOWN]:
            lines.append(f"{a['key']:<10}", "bold").append(f"-> {ljust(a['assignee'], 10)}", "green")
            lines.append(f" {render(a['reason'])}\n", "dim")  # a Message: English in JSON, the reader's language here
        if len(p["assigned"]) > self.SHOWN:
            lines.append(_("... and {n} more").format(n=len(p["assigned"]) - self.SHOWN) + "\n", "dim")
        with Vertical():
            yield Label(_("Dispatch the backlog: assign {assigned}, leave {unassigned} unassigned (nobody over capacity)").format(
                assigned=len(p["assigned"]), unassigned=len(p["unassigned"])), classes="title")
            with VerticalScroll():
                yield Static(lines if p["assigned"] else Text(_("nothing to assign: everyone eligible is full"), "dim"))
            yield Label(_("y or Enter: dispatch now (re-planned on the spot, so it holds), n or Escape: cancel"), classes="hint")


class HelpDialog(ModalScreen[None]):
    """Every key, from the app's own bindings, so it cannot drift."""

    DEFAULT_CSS = DIALOG_CSS.format(name="HelpDialog") + (
        "HelpDialog > Vertical { max-height: 100%; } HelpDialog #help-keys { height: auto; }")
    #: the rows the dialog takes besides its list of keys (border, title, hint, their margins) and a row above and below
    AROUND = 8
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,q", "dismiss(None)", "close")]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        text = Text()
        for key, what in self.keys:
            text.append(f"{key:>10}  ", "bold").append(f"{what}\n")
        with Vertical():
            yield Label(_("Keys (also in the command palette, ctrl+p)"), classes="title")
            with VerticalScroll(id="help-keys"):
                yield Static(text)
            yield Label(_("Escape closes"), classes="hint")

    def on_resize(self, event: events.Resize) -> None:
        """The list of keys as tall as the terminal leaves it; it scrolls (arrows,
        page keys) on a short one (80x24), so the title and the hint stay."""
        self.query_one("#help-keys").styles.max_height = max(event.size.height - self.AROUND, 3)

