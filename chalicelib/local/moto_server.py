"""An embedded AWS (moto server) whose DynamoDB behaves atomically, as the real one does.

Moto serves requests on several threads and does not make a conditional write or a transaction
atomic against the others; DynamoDB does. A lock around the WSGI app for DynamoDB and DynamoDB
Streams requests restores that, so the local stack's races end the way they would in AWS.
"""

from __future__ import annotations

import threading

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


class MotoServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 5001, serialise_dynamodb: bool = True):
        self.host = host
        self.port = port
        self.serialise_dynamodb = serialise_dynamodb
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> MotoServer:
        from moto.moto_server.threaded_moto_server import MotoRequestHandler
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        class QuietRequestHandler(MotoRequestHandler):
            def log_request(self, *args, **kwargs):  # one line per AWS call drowns the stack's own
                pass

        app = DomainDispatcherApplication(create_backend_app)
        if self.serialise_dynamodb:
            app = SerialisedDynamoDB(app)
        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=QuietRequestHandler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
