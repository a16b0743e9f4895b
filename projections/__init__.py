"""Read models of RegioTwin: catch-up projections of the event store's notification log.

Every table here is a cache of the log and can be deleted and rebuilt byte for byte.
See ``projections/README.md`` for the figures' definitions and the tracking design.
"""
