"""Batched nudges: every stored id reaches the broker, a few at a time, none lost on close."""

from __future__ import annotations

import threading
import time

from workers.nudges import BatchNudger


class Recorder:
    def __init__(self, fail_first: int = 0) -> None:
        self.batches: list[list[int]] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()

    def __call__(self, batch: list[int]) -> None:
        with self.lock:
            if self.fail_first:
                self.fail_first -= 1
                raise ConnectionError("broker away")
            self.batches.append(list(batch))

    def ids(self) -> list[int]:
        return [i for batch in self.batches for i in batch]


def test_a_burst_goes_out_in_few_messages_in_order_and_complete() -> None:
    recorder = Recorder()
    nudger = BatchNudger(recorder, linger=0.05, max_batch=20)
    for row_id in range(1, 101):
        nudger(row_id)
    nudger.close()
    assert recorder.ids() == list(range(1, 101))
    assert len(recorder.batches) <= 10 and max(map(len, recorder.batches)) <= 20


def test_a_lone_message_is_not_kept_waiting() -> None:
    recorder = Recorder()
    nudger = BatchNudger(recorder, linger=0.005)
    nudger(7)
    deadline = time.monotonic() + 2
    while not recorder.batches and time.monotonic() < deadline:
        time.sleep(0.001)
    assert recorder.batches == [[7]]
    nudger.close()


def test_stored_ids_from_many_threads_all_arrive() -> None:
    recorder = Recorder()
    nudger = BatchNudger(recorder, linger=0.001, max_batch=7)
    threads = [threading.Thread(target=lambda base=base: [nudger(base + i) for i in range(250)])
               for base in (0, 1000, 2000, 3000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    nudger.close()
    assert sorted(recorder.ids()) == sorted(b + i for b in (0, 1000, 2000, 3000)
                                            for i in range(250))


def test_a_broker_failure_loses_only_the_nudge_and_later_ones_still_go() -> None:
    """The rows stay in the database as received: the sweeper queues them again."""
    recorder = Recorder(fail_first=1)
    nudger = BatchNudger(recorder, linger=0.0)
    nudger(1)
    time.sleep(0.05)
    nudger(2)
    nudger.close()
    assert recorder.ids() == [2]
