"""RegioTwin's event-sourced domain: aggregates decide, events record.

Nothing here knows about Telegram or read models; the service layer in
:mod:`domain.service` is the only way in.
"""
