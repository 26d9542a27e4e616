"""Entitlements, milestones and the SLA clock: watches cases and work orders."""
