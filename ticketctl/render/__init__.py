"""Text and tables that people read, shared by the commands and the dashboard:
durations, Rich markup, the ticket listing, a ticket's show page and its
timeline lines, the knowledge base's results and articles, the heat map grid.

Each function returns text (markup strings, plain lines) or a Rich renderable
and prints nothing: where it goes (stdout, a pipe, a Textual widget) is the
caller's business (``commands.output`` for the CLI). These modules import
``core``, ``i18n`` and services' public views, never ``commands`` or ``tui``
(``tests/test_architecture.py``), and Rich only inside the function that builds a
Rich table: a ``--json`` or piped command never loads it.
"""
