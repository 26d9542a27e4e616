"""What a background job may use of the scheduler process without importing it.

Jobs live in the package whose work they do (portal/booking/jobs.py, ...) and take the
app they run in as their one argument: the scheduler process (portal/scheduler.py, the
top floor) hands them its own. They ask for another job to run at once with `run_soon`
and end a long loop early when `stopping` is set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

# Set when the process is asked to stop: a long job ends after its current step.
stopping = threading.Event()

_runner: Callable[[str], bool] | None = None


def set_runner(runner: Callable[[str], bool] | None) -> None:
    """The scheduler process says how to run a job now (None: no scheduler here)."""
    global _runner
    _runner = runner


def run_soon(job_id: str) -> bool:
    """Ask the scheduler running in this process to run job `job_id` once now, beside its
    schedule (e.g. send the outbox right after queuing alerts); False when none runs here."""
    return _runner(job_id) if _runner is not None else False
