"""Work queues (Scheduling, Finance, Orders, Aging...): members, a lead, a business calendar."""
