"""A TCP proxy on loopback that can cut a PostgreSQL connection right after forwarding a COMMIT.

The server gets the COMMIT (and usually commits) but the client never hears back: the
"in-doubt" case, where a client that retries blindly stores a write twice or loses it.
"""

from __future__ import annotations

import random
import socket
import threading


class CommitCuttingProxy:
    """Forwards 127.0.0.1:<port> to ``upstream``; cuts after a COMMIT with ``probability``."""

    def __init__(self, upstream: tuple[str, int], probability: float = 0.3, seed: int = 0) -> None:
        self.upstream = upstream
        self.probability = probability
        self.cutting = True
        self.cuts = 0
        self.commits = 0
        self._random = random.Random(seed)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def uri(self, database_uri: str) -> str:
        """``database_uri`` with its host and port replaced by the proxy's."""
        from sqlalchemy.engine import make_url

        return make_url(database_uri).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            pair = (client, server)
            threading.Thread(target=self._pump, args=(client, server, pair, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, pair, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, pair: tuple, from_client: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
                if from_client and b"COMMIT" in data:
                    with self._lock:
                        self.commits += 1
                        cut = self.cutting and self._random.random() < self.probability
                        if cut:
                            self.cuts += 1
                    if cut:
                        break
        except OSError:
            pass
        for sock in pair:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
