"""Webhooks: a manager registers URLs; appointment and work-order events are POSTed to
them, signed with the endpoint's secret, through the one outbox and its one sender."""
