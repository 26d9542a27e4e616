"""SLA clocks: entitlement processes, milestones measured in business time, and the
actions they run on warning, violation and success."""
