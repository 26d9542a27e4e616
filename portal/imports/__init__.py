"""Imports, once for the whole product: a file kept with its hash, a dry run with an
outcome per row, then all or nothing (the account feed; the partner's daily report)."""
