"""An embedded AWS (moto server) whose DynamoDB behaves atomically, as the real one does.

Moto serves requests on several threads and does not make a conditional write or a transaction
atomic against the others; DynamoDB does. A lock around the WSGI app for DynamoDB and DynamoDB
Streams requests restores that, so the local stack's races end the way they would in AWS.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque

DYNAMODB_TARGET_PREFIXES = ("DynamoDB_", "DynamoDBStreams_")


class SerialisedDynamoDB:
    """WSGI middleware: one DynamoDB request at a time; everything else passes straight through."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(DYNAMODB_TARGET_PREFIXES):
            return self.app(environ, start_response)
        with self.lock:
            # consume the response under the lock: moto does its work while the body is produced
            return list(self.app(environ, start_response))


class ShardIteratorReaper:
    """Expire moto's shard iterators 15 minutes after they were handed out, as DynamoDB Streams does.

    Moto keeps every iterator it ever returned (each `get_records` call returns a new one, about
    2 KB), so a stream runner polling a dozen streams five times a second would grow the process
    by hundreds of megabytes an hour. Iterators sit in insertion order; every `interval` seconds
    the reaper notes the newest one, and drops everything up to a note older than `ttl`.
    """

    def __init__(self, ttl: float = 900.0, interval: float = 30.0, lock: threading.Lock | None = None):
        self.ttl = ttl
        self.interval = interval
        self.lock = lock
        self._marks: dict[int, deque[tuple[float, str]]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def _backends() -> list:
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        return [backend for per_account in list(dynamodbstreams_backends.values())
                for backend in list(per_account.values())]

    def reap(self, now: float | None = None) -> int:
        """Note the newest iterator of each backend; drop those noted more than `ttl` ago. Returns how many."""
        now = time.monotonic() if now is None else now
        dropped = 0
        for backend in self._backends():
            with self.lock or contextlib.nullcontext():
                iterators = backend.shard_iterators
                keys = list(iterators)
                marks = self._marks.setdefault(id(backend), deque())
                if keys and (not marks or marks[-1][1] != keys[-1]):
                    marks.append((now, keys[-1]))
                expired_through = None
                while marks and marks[0][0] <= now - self.ttl:
                    expired_through = marks.popleft()[1]
                if expired_through is not None and expired_through in iterators:
                    for key in keys[: keys.index(expired_through) + 1]:
                        del iterators[key]
                        dropped += 1
        return dropped

    def start(self) -> ShardIteratorReaper:
        def loop() -> None:
            while not self._stop.wait(self.interval):
                try:
                    self.reap()
                except Exception:  # never take the server down over housekeeping
                    pass

        self._thread = threading.Thread(target=loop, name="moto-iterator-reaper", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()


class MotoServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 5001, serialise_dynamodb: bool = True,
                 iterator_ttl: float = 900.0):
        self.host = host
        self.port = port
        self.serialise_dynamodb = serialise_dynamodb
        self.iterator_ttl = iterator_ttl
        self._server = None
        self._thread: threading.Thread | None = None
        self._reaper: ShardIteratorReaper | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> MotoServer:
        from moto.moto_server.threaded_moto_server import MotoRequestHandler
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        from chalicelib.local.moto_patches import apply_all

        apply_all()

        class QuietRequestHandler(MotoRequestHandler):
            def log_request(self, *args, **kwargs):  # one line per AWS call drowns the stack's own
                pass

        app = DomainDispatcherApplication(create_backend_app)
        lock = None
        if self.serialise_dynamodb:
            app = SerialisedDynamoDB(app)
            lock = app.lock
        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=QuietRequestHandler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True)
        self._thread.start()
        self._reaper = ShardIteratorReaper(ttl=self.iterator_ttl, lock=lock).start()
        return self

    def stop(self) -> None:
        if self._reaper is not None:
            self._reaper.stop()
            self._reaper = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
