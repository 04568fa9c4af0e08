"""The dramatiq broker: Redis when ``DRUMBEAT_REDIS_URL`` is set, in-process otherwise.

The broker only carries nudges (ids of rows in the database), so losing it —
a Redis flush, a crash — delays work and never loses it.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker


def make_broker(redis_url: str | None, namespace: str = "drumbeat") -> dramatiq.Broker:
    """A Redis broker for ``redis_url``, or the in-process broker for the embedded setup.

    Either way the broker is booted as the ``dramatiq`` command would boot it: without
    that, the TimeLimit middleware never starts its watchdog and an actor's time limit
    is not enforced at all (``dramatiq.Worker`` alone does not boot it)."""
    broker: dramatiq.Broker = (RedisBroker(url=redis_url, namespace=namespace) if redis_url
                               else StubBroker())
    broker.emit_after("process_boot")
    return broker
