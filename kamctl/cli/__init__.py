"""Thin commands: parse arguments, call the core, print. Exit codes are decided here only."""
