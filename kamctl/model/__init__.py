"""Pydantic models: the single source of truth for account files and kam.yaml."""
