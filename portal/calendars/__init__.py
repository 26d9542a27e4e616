"""Business-hours calendars: the working time SLA clocks count (support, back-office queues)."""
