"""The audit log: who changed which configuration or permission, when, from what to what.

A low floor: settings, accounts, webhooks and API tokens import it, it imports none of
them. Services call `record_change` inside their own transaction, so an entry commits or
rolls back with the change it describes. Entries are never changed or removed: there is
no update or delete path here, and the database refuses both (migration 0013).
"""
