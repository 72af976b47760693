"""ticketctl: a terminal-first work-order system for field-service and support teams."""

__version__ = "0.1.0"
