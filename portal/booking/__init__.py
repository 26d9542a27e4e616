"""Booking: appointments, holds, their lifecycle and the windows offered; the views live in
the routes package, which the app factory registers."""
