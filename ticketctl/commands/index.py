# ruff: noqa: E501  (generated: one line per command)
"""Every top-level command: (name, position in ``ticketctl.cli.SOURCES``, English help).

Generated from the command modules by ``python tools/gen_docs.py``; ``tests/test_docs.py``
fails when it differs from them. The lazy root command (``ticketctl.cli.LazyGroup``) lists
commands from here without importing them."""

COMMANDS: tuple[tuple[str, int, str], ...] = (
    ('new', 0, 'Open a ticket; prints its key (and, on stderr, the resolved ticket or\nknowledge article most like it, when one is close).'),
    ('list', 0, 'List tickets: by default the open ones, highest priority weight first.'),
    ('mine', 0, 'My open tickets (TICKETCTL_USER or `config set me NAME`), highest weight first.'),
    ('show', 0, 'Show a ticket: fields, SLA clocks, checklist, its whole timeline, and the\nthree resolved tickets or knowledge articles most like it.'),
    ('assign', 1, 'Assign (or reassign) a ticket: to NAME, or to the best eligible technician.'),
    ('start', 1, 'Start work on an assigned ticket.'),
    ('block', 1, 'Block a ticket with a reason; the resolution clock pauses for customer-caused reasons.'),
    ('unblock', 1, 'Unblock a ticket: it returns to where it was before the block.'),
    ('note', 1, "Add a note to the ticket's timeline."),
    ('resolve', 1, "Mark the work done; the ticket waits for the customer's confirmation."),
    ('close', 1, 'Close a resolved ticket; refused, naming what is missing, while checklist items are unchecked, an item\nthat needs evidence has none (`attach FILE --for ITEM`) or the customer has not confirmed (`confirm`).'),
    ('reopen', 1, 'Reopen a resolved or closed ticket; its checklist starts over.'),
    ('edit', 1, "Change a ticket's fields; each change is an event in the timeline."),
    ('cancel', 1, 'Cancel an open ticket (tickets are never deleted).'),
    ('attach', 2, "Attach an evidence file, stored once by its SHA-256 beside the store.\n\nWith --for ITEM the file proves that item and checks it now; a photo's EXIF capture time must lie within\nproof.photo_window (5 min) of the check, else the attach is refused with the gap. A photo without a capture\ntime is attached but flagged, and proves nothing. Attaching more files for an already checked item needs\nthem taken within the window of that check."),
    ('confirm', 2, 'Record the customer\'s confirmation of a resolved ticket, in person or by phone (--qr).\n\nIn person: three ratings, a comment and the customer\'s name. By phone: a single-use link that expires after\nproof.token_ttl (24 h) opens the server\'s form at URL/c/TOKEN. On a device that syncs, --qr syncs first so that\nthe link works as soon as it is shown; when the server cannot be reached (or the device does not sync) the link\nis printed all the same and stderr says it works after the next `ticketctl sync`. --json says which in "live".'),
    ('similar', 3, "The resolved tickets and articles closest to a ticket, each with why it matched.\n\nCloseness adds up how much of the ticket's rarest words the other one holds\n(bm25), and whether it has the same fault, product and department."),
    ('delegate', 4, 'Name who approves for someone while they are away: the record says "OTHER for NAME".'),
    ('locate', 9, 'Print where the config, the store and the logs are.'),
    ('sweep', 19, 'Escalate silent, at-risk, breached and long-blocked tickets, ask the holders of stalled work why,\nand group batch incidents under one parent ticket. Safe to run from cron every minute: nothing\nhappens twice.'),
    ('why', 19, 'Answer a stall check: awaiting_parts / awaiting_customer block the ticket with that reason,\ntechnician_away returns it to the queue unassigned, still_working restarts the stall clock.'),
    ('demo', 20, 'Fill the store with a realistic team and backlog (shaped on a real ServiceNow log) and summarise it.'),
    ('tui', 21, "Open the dispatcher's dashboard: the backlog by weight, the heat map and\nthe technicians' load, live; act on tickets by key (? lists the keys).\n`ticketctl` alone in a terminal opens it too."),
    ('tech', 5, 'Manage technicians: skills, zone, capacity, shift.'),
    ('kb', 6, 'The knowledge base: articles from resolved tickets, search, publishing to customers.'),
    ('approval', 7, 'Approvals: a path that follows the cost, approve or reject, who holds what.'),
    ('config', 8, 'Show or change the rules in config.toml.'),
    ('store', 10, 'Check or rebuild the local store from its event log.'),
    ('dispatch', 11, 'Assign work to technicians by skills, load and distance.'),
    ('report', 12, 'Reports for supervisors.'),
    ('notify', 13, 'Webhook notifications: see the outbox, send what is pending, test a target.'),
    ('import', 14, 'Import tickets from other systems: a ServiceNow event log, any event log (CSV/XLSX/XES), or any CSV/XLSX of one row per ticket.'),
    ('cert', 15, 'Signed service certificates: a PDF with a QR code anyone can verify.'),
    ('sync', 16, "Sync this store with the team's server: push queued changes, pull everyone else's.\n\nExit codes: 0 everything went through, 1 the server refused some changes (listed, with reasons; see `sync status`), 3 the server is unreachable (local work stays queued)."),
    ('server', 17, "Run the team's sync server and manage its devices."),
    ('intake', 18, "Hand work that arrives by itself to the team's server (the server's doors: `server add-source`)."),
    ('part', 22, 'Parts: the catalogue, and the parts a ticket needs and uses.'),
    ('stock', 23, 'Stock: places, receiving, transfers, counts and levels (an append-only ledger).'),
)
