"""What every process that creates RegioTwin's PostgreSQL tables agrees on."""

SCHEMA_LOCK = 727274
"""The ``pg_advisory_xact_lock`` key of every transaction that creates tables: processes
starting together on a fresh database create them one after the other (``CREATE TABLE IF
NOT EXISTS`` is not safe against a concurrent one: "tuple concurrently updated")."""
