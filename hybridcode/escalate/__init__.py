"""Escalation to a frontier model: package, exclude, redact, show, send, record."""
