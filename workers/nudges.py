"""Nudging workers in batches: the SMTP door stores one message at a time but
tells the broker about them a few at a time.

A broker message costs about as much CPU as the row insert it announces, and it
is only a nudge (the row is the ledger; the sweeper finds any row whose nudge
was lost). So :class:`BatchNudger` hands stored ids to one background thread,
which waits a few milliseconds for company and sends them as one message.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("drumbeat.nudges")


class BatchNudger:
    """Call it with each stored id; ids go out in batches of up to ``max_batch``."""

    def __init__(self, send_batch: Callable[[list[int]], None], *, linger: float = 0.02,
                 max_batch: int = 50) -> None:
        self.send_batch = send_batch
        self.linger = linger
        self.max_batch = max_batch
        self._pending: list[int] = []
        self._ready = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="nudger", daemon=True)
        self._thread.start()

    def __call__(self, row_id: int) -> None:
        with self._ready:
            self._pending.append(row_id)
            if len(self._pending) == 1 or len(self._pending) >= self.max_batch:
                self._ready.notify()

    def close(self) -> None:
        """Send what is pending and stop the thread."""
        with self._ready:
            self._closed = True
            self._ready.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._pending and not self._closed:
                    self._ready.wait()
                if not self._pending and self._closed:
                    return
                if len(self._pending) < self.max_batch and not self._closed:
                    self._ready.wait(self.linger)  # let a few more arrive
                batch = self._pending[:self.max_batch]
                del self._pending[:self.max_batch]
            try:
                self.send_batch(batch)
            except Exception:  # stored is what counts: the sweeper queues them again
                log.exception("could not queue stored messages %s", batch)
