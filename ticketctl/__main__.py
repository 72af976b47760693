from ticketctl.cli import run

run()
