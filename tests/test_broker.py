"""The broker the settings choose carries messages to a real dramatiq worker."""

from __future__ import annotations

import uuid

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from workers.broker import make_broker


def _worker_runs_actor(broker: dramatiq.Broker) -> list[int]:
    seen: list[int] = []

    @dramatiq.actor(broker=broker, actor_name=f"record_{uuid.uuid4().hex[:8]}", max_retries=0)
    def record(value: int) -> None:
        seen.append(value)

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        for value in (1, 2, 3):
            record.send(value)
        broker.join(record.queue_name, timeout=10_000)
        worker.join()
    finally:
        worker.stop()
    return sorted(seen)


def test_without_redis_url_the_broker_is_in_process() -> None:
    broker = make_broker(None)
    assert isinstance(broker, StubBroker)
    assert _worker_runs_actor(broker) == [1, 2, 3]


def test_with_redis_url_messages_go_through_real_redis(redis_broker: dramatiq.Broker) -> None:
    assert isinstance(redis_broker, RedisBroker)  # what make_broker(REDIS_URL) gives
    assert _worker_runs_actor(redis_broker) == [1, 2, 3]
