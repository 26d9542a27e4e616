"""What the long-running helper commands (`portal mail-sink`, `portal webhook-sink`) share."""

from __future__ import annotations

import signal
import threading


def wait_until_stopped() -> None:
    """Block until SIGTERM, or SIGINT unless it is ignored.

    Started in the background by a script (`make run`), SIGINT is ignored on purpose:
    Ctrl-C then reaches the web server only, and the script stops us in order.
    """
    stopped = threading.Event()

    def stop(_signum, _frame):
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, stop)
    while not stopped.wait(1):
        pass
