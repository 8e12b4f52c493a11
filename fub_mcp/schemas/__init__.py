"""Pydantic models per resource: strict tool inputs and lean tool outputs. No I/O here."""
