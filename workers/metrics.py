"""Prometheus counters for what passes through a process, and gauges read from the database.

The counters live in prometheus_client's default registry and count in this
process only: every long-running command serves its own ``/metrics`` (see
:mod:`drumbeat.health`), and Prometheus adds the processes up. The gauges
(``drumbeat_inbound_waiting``, ``drumbeat_outbox_waiting``) are not kept in
memory: :class:`DatabaseGauges` counts the rows when ``/metrics`` is read, so
every process reports the same, true figure.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

log = logging.getLogger("drumbeat.metrics")

INBOUND_STORED = Counter(
    "drumbeat_inbound_stored_total",
    "Inbound messages stored (new rows only; the same message again is not counted).",
    ["via"])
INBOUND_PROCESSED = Counter(
    "drumbeat_inbound_processed_total",
    "Inbound messages processed, by resulting status (error: an exception, retried later).",
    ["status"])
REPLY_LINES = Counter(
    "drumbeat_reply_lines_total",
    "Update lines read in replies: applied, refused or not understood.",
    ["result"])
OUTBOX_SENT = Counter(
    "drumbeat_outbox_sent_total",
    "Outbox rows handed to the relay or Maildir: sent, failed (for good) or retry.",
    ["kind", "status"])

for _status in ("applied", "rejected", "error"):
    INBOUND_PROCESSED.labels(_status)
for _result in ("applied", "refused", "not_understood"):
    REPLY_LINES.labels(_result)


def stored(via: str) -> None:
    """A new inbound row (SMTP or IMAP door)."""
    INBOUND_STORED.labels(via).inc()


def processed(status: str, outcome: Mapping[str, Any] | None = None) -> None:
    """One message processed; a reply's outcome also counts its lines."""
    INBOUND_PROCESSED.labels(status).inc()
    if outcome and outcome.get("kind") == "reply":
        for result, key in (("applied", "done"), ("refused", "refused"),
                            ("not_understood", "not_understood")):
            if outcome.get(key):
                REPLY_LINES.labels(result).inc(len(outcome[key]))


def handed_over(kind: str, status: str) -> None:
    """One try at sending an outbox row: sent, failed or retry."""
    OUTBOX_SENT.labels(kind, status).inc()


class DatabaseGauges(Collector):
    """``drumbeat_inbound_waiting`` and ``drumbeat_outbox_waiting``, counted at scrape time.

    Register it with a registry (``REGISTRY.register(DatabaseGauges(engine))``) and
    unregister it when done. When the database cannot be read the gauges are left
    out of the scrape (``/healthz`` says why) rather than reported as zero.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> Iterator[Metric]:
        """The metric names without a query (the registry asks at registration)."""
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        from models.mailbox import InboundMessage, InboundStatus, OutboundMessage
        from models.mailbox import OutboundStatus as Out

        waiting = (Out.PENDING.value, Out.QUEUED.value, Out.CLAIMED.value)
        try:
            with self.engine.connect() as connection:
                inbound = connection.scalar(select(func.count()).select_from(InboundMessage)
                                            .where(InboundMessage.status
                                                   == InboundStatus.RECEIVED.value))
                outbound = connection.scalar(select(func.count()).select_from(OutboundMessage)
                                             .where(OutboundMessage.status.in_(waiting)))
        except Exception as exc:
            log.warning("metrics: cannot count waiting rows: %s", exc)
            return
        inbound_family, outbox_family = self._families()
        inbound_family.add_metric([], inbound or 0)
        outbox_family.add_metric([], outbound or 0)
        yield inbound_family
        yield outbox_family

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily("drumbeat_inbound_waiting",
                              "Inbound messages stored and not processed yet (status received)."),
            GaugeMetricFamily("drumbeat_outbox_waiting",
                              "Outbox rows not sent yet (pending, queued or claimed)."),
        )
