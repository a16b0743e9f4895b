"""Operating RegioTwin: backups and restores."""
