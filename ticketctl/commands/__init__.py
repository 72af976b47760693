"""Thin Typer adapters: parse, call one service, render (Rich or ``--json``)."""
