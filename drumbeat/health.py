"""``/healthz`` and ``/metrics`` over HTTP, for load balancers, Kubernetes and Prometheus.

A stdlib ``http.server`` in a daemon thread, started by every long-running
command (smtpd, imap-poll, worker, scheduler, serve) when
``DRUMBEAT_METRICS_PORT`` is set; off by default. Each process needs a port of
its own.

    GET /healthz  200 {"database": "ok", "broker": "ok"}   (SELECT 1 and Redis PING)
                  503 the same keys, the failing part saying what is wrong
    GET /metrics  prometheus_client's default registry, plus the waiting-row gauges
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import Engine, text

from config.settings import Settings
from models.db import make_engine
from workers.metrics import DatabaseGauges

log = logging.getLogger("drumbeat.health")
CHECK_TIMEOUT_SECONDS = 3


def quick_engine(url: str) -> Engine:
    """An engine whose connection attempts give up after a few seconds (PostgreSQL)."""
    if url.startswith("postgresql"):
        return make_engine(url, connect_args={"connect_timeout": CHECK_TIMEOUT_SECONDS},
                           pool_size=2, max_overflow=2)
    return make_engine(url)


def check_database(engine: Engine) -> str:
    """``ok``, or what went wrong (one line)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return f"error: {_one_line(exc)}"
    return "ok"


def check_broker(redis_url: str | None) -> str:
    """``ok`` after a Redis PING (or for the in-process broker), else what went wrong."""
    if not redis_url:
        return "ok"
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
                                  socket_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        client.ping()
    except Exception as exc:
        return f"error: {_one_line(exc)}"
    finally:
        client.close()
    return "ok"


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)  # SQLAlchemy wraps the driver's error
    return " ".join(str(orig or exc).split()) or type(exc).__name__


class HealthServer:
    """The HTTP server and its thread; :meth:`stop` frees the port and the gauges."""

    def __init__(self, settings: Settings, host: str, port: int,
                 engine: Engine | None = None) -> None:
        self.engine = engine or quick_engine(settings.database_url)
        self.redis_url = settings.redis_url
        self.gauges = DatabaseGauges(self.engine)
        self.httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="health",
                                       daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    def health(self) -> tuple[int, dict[str, str]]:
        parts = {"database": check_database(self.engine),
                 "broker": check_broker(self.redis_url)}
        ok = all(value == "ok" for value in parts.values())
        return (200 if ok else 503), parts

    def start(self) -> HealthServer:
        REGISTRY.register(self.gauges)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        REGISTRY.unregister(self.gauges)


def _handler_for(server: HealthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                status, parts = server.health()
                self._reply(status, "application/json", json.dumps(parts).encode())
            elif path == "/metrics":
                self._reply(200, CONTENT_TYPE_LATEST, generate_latest(REGISTRY))
            else:
                self._reply(404, "text/plain; charset=utf-8", b"try /healthz or /metrics\n")

        def _reply(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.address_string(), *args)

    return Handler


def start_health_server(settings: Settings, engine: Engine | None = None) -> HealthServer | None:
    """Start serving ``/healthz`` and ``/metrics`` if ``DRUMBEAT_METRICS_PORT`` is set.

    A port already taken is logged and skipped: the service itself matters more
    than its metrics (give each process on one machine its own port).
    """
    if settings.metrics_port is None:
        return None
    try:
        server = HealthServer(settings, settings.metrics_host, settings.metrics_port,
                              engine).start()
    except OSError as exc:
        log.error("health and metrics not served: cannot listen on %s:%s (%s); set "
                  "DRUMBEAT_METRICS_PORT to a free port", settings.metrics_host,
                  settings.metrics_port, exc)
        return None
    host, port = server.address
    log.info("health on http://%s:%s/healthz, metrics on /metrics", host, port)
    return server
