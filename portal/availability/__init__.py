"""Availability: the pure engine that finds free appointment windows (engine.py imports only
the standard library). Feeding it from the database is the booking floor's work
(portal/booking/windows.py)."""
