"""Use cases: one function per user action, shared by the CLI, the dashboard and
the server. Each loads state from the store, asks ``ticketctl.core`` whether the
action is allowed, and appends the resulting events with the projections they
change in one transaction."""
