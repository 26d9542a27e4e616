"""The workforce: agents (technicians), their skills, territories and postal prefixes,
weekly working hours, time off and the organisation's holidays.

It imports only the core floor (and `accounts` for types). What a change of availability
means for booked work is not its business: `portal.workforce.watchers` tells whoever
registered (the dispatch feature parks and moves appointments)."""
