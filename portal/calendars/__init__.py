"""Business-hours calendars: weekly open intervals and holidays in a zone (business.py is pure)."""
