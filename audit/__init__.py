"""Audit: history, replay to a date, export, tamper evidence and reports."""
