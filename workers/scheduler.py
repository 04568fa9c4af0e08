"""The scheduler: a tick that enqueues ``dispatch_due(now)`` (and the sweeper).

Why a plain tick and not periodiq or APScheduler: all the scheduler decides is
"it is now T"; what is due at T is worked out from the database and written
with unique dedupe keys. So two schedulers, a restarted one, or a tick that is
delivered twice only repeat a question whose answer is already recorded, and
no lock, leader election or job store is needed. A scheduler that was down
simply asks again when it is back; ``due_agendas`` answers with what is still
upcoming.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from workers.actors import dispatch_due, housekeeping, sweep_outbox

log = logging.getLogger("drumbeat.scheduler")
SWEEP_EVERY_TICKS = 5
HOUSEKEEPING_SECONDS = 3600.0  # clearing old raw bytes: hourly is plenty


def tick(now: datetime, sweep: bool, tidy: bool = False) -> None:
    """One beat: ask for the work due at ``now``, now and then for lost work, and now and
    then (``tidy``) for housekeeping."""
    dispatch_due.send(now.isoformat())
    if sweep:
        sweep_outbox.send()
    if tidy:
        housekeeping.send(now.isoformat())


def housekeeping_every(interval: float) -> int:
    """Ticks between two housekeeping runs: about an hour's worth (at least one)."""
    return max(1, round(HOUSEKEEPING_SECONDS / interval))


def run(clock: Callable[[], datetime], interval: float, stop: threading.Event,
        once: bool = False) -> int:
    """Tick every ``interval`` seconds until ``stop`` is set; returns the number of ticks."""
    ticks = 0
    while not stop.is_set():
        now = clock()
        tick(now, sweep=ticks % SWEEP_EVERY_TICKS == 0,
             tidy=ticks % housekeeping_every(interval) == 0)
        ticks += 1
        log.debug("tick %d at %s", ticks, now.isoformat())
        if once:
            break
        pause(stop, interval)
    return ticks


def pause(stop: threading.Event, seconds: float) -> None:
    """Sleep until ``stop`` is set or ``seconds`` pass, waking twice a second: on the main
    thread, a signal the kernel handed to another thread only runs its handler then."""
    deadline = time.monotonic() + seconds
    while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
        stop.wait(min(0.5, left))
