"""A TCP forwarder on loopback that a test can cut, standing in for a database going away.

Cutting closes every connection through it and closes each new one at once, as a
stopped server would look to its clients, without touching the real server (which
other tests share); restoring lets connections through again.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class TcpProxy:
    target: tuple[str, int]
    listener: socket.socket = field(init=False, repr=False)
    down: bool = False
    open_sockets: set[socket.socket] = field(default_factory=set, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def start(self) -> TcpProxy:
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()
        return self

    def cut(self) -> None:
        with self.lock:
            self.down = True
            for sock in self.open_sockets:
                _close(sock)
            self.open_sockets.clear()

    def restore(self) -> None:
        with self.lock:
            self.down = False

    def stop(self) -> None:
        self.cut()
        _close(self.listener)

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:  # stopped
                return
            with self.lock:
                down = self.down
            if down:
                _close(client)
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self.lock:
                self.open_sockets.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self.lock:
                self.open_sockets.discard(source)
                self.open_sockets.discard(sink)
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
