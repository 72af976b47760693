"""The rules, as plain functions and dataclasses: the workflow (states,
transitions, guards), the priority weight, SLA clocks on a business calendar,
load-aware assignment, checklist and evidence rules, KPI formulas, the
certificate's payload, roles and field permissions, and the config that sets
them (``ticketctl.core.config``).

Pure: no database, no network, no files, no clock (time is a parameter, never
``datetime.now()``). Modules here import the standard library, each other,
``ticketctl.errors`` and ``ticketctl.i18n``, and nothing above them: not the
store, the services, sync, the server, rendering, commands or the dashboard.
A library a rule needs (``holidays`` behind ``core.country``, ``cryptography``
behind ``core.certificate``'s signature check) is imported inside the function
that needs it, so importing a rule stays cheap.
"""

# Loading the labels lets every message read its identifiers as labels (ticketctl.i18n.LABELLED),
# in whatever process imports a rule: the CLI, the dashboard, the server.
from ticketctl.core import labels as labels  # noqa: E402
