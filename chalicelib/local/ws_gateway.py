"""The local stand-in for an API Gateway WebSocket API: real sockets in, the app's Chalice handlers
called with API Gateway's event shapes, and the `@connections` management API out.

How it maps to API Gateway (what the deployed WebSocket API does, and what this does locally):

- A client opens `ws://HOST:$WS_PORT/` (or `/{stage}`; deployed `wss://{api-id}.execute-api.
  {region}.amazonaws.com/{stage}`). The upgrade waits for the `$connect` handler (event type
  CONNECT, with the query string and headers); a handler answering `statusCode` >= 400 refuses the
  connection with that HTTP status, one that raises with 500. An app with no websocket handlers at
  all has no WebSocket API: every connect is refused (404).
- Every text frame is a `$default` MESSAGE event with the frame as `body` (Chalice routes every
  message to `$default`). A binary frame closes the connection with 1003, as API Gateway does; a
  frame over 128 KB closes it with 1009. A `$default` handler that raises makes the gateway send
  `{"message": "Internal server error", "connectionId", "requestId"}` to that connection only.
- When the socket closes, from either side, `$disconnect` runs once (best effort, as deployed).
- Connections idle for `idle_timeout` (10 minutes) or open for `max_duration` (2 hours) are
  closed with 1001 (Going away), the deployed limits.
- The management API (`apigatewaymanagementapi` in boto3) listens on a sibling port,
  `$WS_MANAGEMENT_PORT`: `POST /@connections/{id}` sends the body as one frame (text when it is
  UTF-8, else binary; over 128 KB: 413 PayloadTooLargeException), queued in order and answered at
  once, so a viewer that stops reading never stalls the senders (more than `OUTBOX_FRAMES` behind,
  it is closed with 1008 and posts to it answer 410); `GET` answers `connectedAt`,
  `identity` and `lastActiveAt`, `DELETE` closes the socket (204). Paths work with and without a
  leading `/{stage}`; an unknown or closed connection is 410 with `x-amzn-ErrorType:
  GoneException`, which boto3 raises as `client.exceptions.GoneException`. Requests are not
  signature-checked.

Sockets live on one asyncio loop (thousands are cheap); handlers are ordinary blocking Python, so
each invocation runs in a thread pool and a slow handler never stalls the loop or other sockets.
The messages of one connection reach `$default` in order, one at a time.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

#: API Gateway's limits for WebSocket APIs (docs/scale.md).
MAX_MESSAGE_BYTES = 128 * 1024
IDLE_TIMEOUT_SECONDS = 10 * 60
MAX_DURATION_SECONDS = 2 * 60 * 60
#: Frames posted to one connection and not yet written to its socket. A viewer that stops reading
#: must not stall the broadcast's senders (API Gateway accepts a post without waiting for the
#: client); one that falls this far behind is closed (1008) and its posts answer 410.
OUTBOX_FRAMES = 1_000

CONNECT, MESSAGE, DISCONNECT = "$connect", "$default", "$disconnect"
LOCAL_API_ID = "local"

Handler = Callable[[dict, Any], Any]


def new_connection_id() -> str:
    """An id shaped like API Gateway's (`L0SM9cOFvHcCIhw=`): 16 characters, URL-safe here."""
    return base64.urlsafe_b64encode(os.urandom(10)).decode()[:-2] + "="


def _millis() -> int:
    return int(time.time() * 1000)


def _request_time(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _iso(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


@dataclass
class Connection:
    connection_id: str
    socket: Any  # websockets.asyncio.server.ServerConnection
    connected_at: int
    source_ip: str
    user_agent: str
    last_active_at: int = 0
    closed_by_gateway: str = ""  # the reason, when the gateway closed the socket
    gateway_close_code: int = 0
    in_session: bool = False  # the upgrade completed and the socket is served
    outbox: Any = None  # asyncio.Queue of frames posted through the management API, sent in order
    disconnected: bool = False  # `$disconnect` has been called (once per connection)


def chalice_handlers(app: Any) -> dict[str, Handler]:
    """The app's websocket handlers by route key, wrapped as Chalice wraps them for Lambda."""
    handlers: dict[str, Handler] = {}
    for route_key, config in getattr(app, "websocket_handlers", {}).items():
        wrapped = app.handler_map.get(config.name)
        if wrapped is not None:
            handlers[route_key] = wrapped
    return handlers


class WebSocketGateway:
    """`start()` runs the gateway on its own thread and loop; `stop()` closes every socket."""

    def __init__(self, handlers: dict[str, Handler], *, host: str = "127.0.0.1", port: int = 8001,
                 management_port: int = 0, stage: str = "dev", api_id: str = LOCAL_API_ID,
                 region: str = "us-east-1", handler_threads: int = 32,
                 idle_timeout: float = IDLE_TIMEOUT_SECONDS, max_duration: float = MAX_DURATION_SECONDS,
                 function_prefix: str = "jianghu-", app: Any = None):
        self.handlers = handlers
        self.host = host
        self.port = port
        self.management_port = management_port
        self.stage = stage
        self.api_id = api_id
        self.region = region
        self.idle_timeout = idle_timeout
        self.max_duration = max_duration
        self.function_prefix = function_prefix
        self.app = app
        self.connections: dict[str, Connection] = {}
        self.invocations: dict[str, int] = {CONNECT: 0, MESSAGE: 0, DISCONNECT: 0}
        self.management_calls = 0
        self._pool = ThreadPoolExecutor(max_workers=handler_threads, thread_name_prefix="ws-handler")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._count_lock = threading.Lock()

    @classmethod
    def for_app(cls, app: Any, **kwargs: Any) -> WebSocketGateway:
        return cls(chalice_handlers(app), app=app, **kwargs)

    # -- URLs ---------------------------------------------------------------------------------

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def management_url(self) -> str:
        """What boto3's `endpoint_url` takes, shaped as deployed (`https://{domain}/{stage}`)."""
        return f"http://{self.host}:{self.management_port}/{self.stage}"

    @property
    def domain_name(self) -> str:
        return f"{self.host}:{self.port}"

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> WebSocketGateway:
        raise_open_files_limit()
        self._thread = threading.Thread(target=self._run, name="ws-gateway", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the WebSocket gateway did not start")
        if self._error is not None:
            raise RuntimeError(f"the WebSocket gateway did not start: {self._error}") from self._error
        self._point_chalice_at_gateway()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stopping is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
        websocket_api = getattr(self.app, "websocket_api", None)
        if websocket_api is not None and getattr(websocket_api, "_endpoint", None) == self.management_url:
            websocket_api._endpoint = websocket_api._client = None

    def _point_chalice_at_gateway(self) -> None:
        """Chalice's own helpers (`app.websocket_api.send/close/info`, with `app.websocket_api.session`
        set) post here, not to AWS: deployed, Chalice derives the endpoint from the event's `apiId`
        unless one is set, and here it is set before the first event."""
        websocket_api = getattr(self.app, "websocket_api", None)
        if websocket_api is not None:
            websocket_api._endpoint = self.management_url
            websocket_api._client = None

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # noqa: BLE001 - reported to start()
            self._error = error
            self._ready.set()

    async def _main(self) -> None:
        from websockets.asyncio.server import serve

        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        ws_server = await serve(
            self._session, self.host, self.port, process_response=self._on_handshake,
            compression=None,  # API Gateway negotiates no permessage-deflate
            max_size=MAX_MESSAGE_BYTES, max_queue=64, backlog=4096, logger=_quiet_logger(),
        )
        http_server = await asyncio.start_server(self._serve_management, self.host, self.management_port,
                                                 backlog=1024)
        self.port = ws_server.sockets[0].getsockname()[1]
        self.management_port = http_server.sockets[0].getsockname()[1]
        sweeper = asyncio.create_task(self._sweep())
        self._ready.set()
        await self._stopping.wait()
        sweeper.cancel()
        http_server.close()
        ws_server.close(code=1001, reason="Going away")
        try:
            await asyncio.wait_for(ws_server.wait_closed(), 5)
        except TimeoutError:
            pass

    # -- events -------------------------------------------------------------------------------

    def _request_context(self, route_key: str, event_type: str, connection: Connection, **extra: Any) -> dict:
        now = _millis()
        request_id = str(uuid.uuid4())
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": _request_time(now),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": connection.connected_at,
            "requestTimeEpoch": now,
            "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
            "requestId": request_id,
            "domainName": self.domain_name,
            "connectionId": connection.connection_id,
            "apiId": self.api_id,
            **extra,
        }

    def _invoke(self, route_key: str, event: dict) -> Any:
        """Run in the handler pool: one Lambda invocation of the route's handler."""
        from chalicelib.local.lambda_events import LambdaContext

        handler = self.handlers[route_key]
        name = {CONNECT: "websocket_connect", MESSAGE: "websocket_message",
                DISCONNECT: "websocket_disconnect"}[route_key]
        with self._count_lock:
            self.invocations[route_key] += 1
        return handler(event, LambdaContext(function_name=f"{self.function_prefix}{name}", region=self.region))

    async def _call(self, route_key: str, event: dict) -> Any:
        assert self._loop is not None
        return await self._loop.run_in_executor(self._pool, self._invoke, route_key, event)

    async def _on_handshake(self, socket: Any, request: Any, response: Any) -> Any:
        """After websockets accepted the upgrade, before it answers: `$connect` decides."""
        if response.status_code != 101:
            return None
        path = urlsplit(request.path)
        if path.path.rstrip("/") not in ("", f"/{self.stage}"):
            return socket.respond(404, "Not Found\n")
        if not self.handlers:
            return socket.respond(404, "This app registers no websocket handlers\n")
        peer = socket.remote_address or ("127.0.0.1", 0)
        connection = Connection(
            connection_id=new_connection_id(), socket=socket, connected_at=_millis(),
            source_ip=str(peer[0]), user_agent=request.headers.get("User-Agent", ""),
        )
        connection.last_active_at = connection.connected_at
        if CONNECT in self.handlers:
            headers: dict[str, str] = {}
            multi_headers: dict[str, list[str]] = {}
            for name, value in request.headers.raw_items():
                headers[name] = value
                multi_headers.setdefault(name, []).append(value)
            for name, value in (("X-Forwarded-For", connection.source_ip), ("X-Forwarded-Port", str(self.port)),
                                ("X-Forwarded-Proto", "http")):
                headers.setdefault(name, value)
                multi_headers.setdefault(name, [value])
            event: dict[str, Any] = {
                "headers": headers,
                "multiValueHeaders": multi_headers,
                "requestContext": self._request_context(CONNECT, "CONNECT", connection),
                "isBase64Encoded": False,
            }
            pairs = parse_qsl(path.query, keep_blank_values=True)
            if pairs:
                event["queryStringParameters"] = dict(pairs)
                multi: dict[str, list[str]] = {}
                for key, value in pairs:
                    multi.setdefault(key, []).append(value)
                event["multiValueQueryStringParameters"] = multi
            try:
                result = await self._call(CONNECT, event)
            except Exception as error:  # noqa: BLE001 - a failed integration refuses the connection
                _log_handler_error(CONNECT, connection.connection_id, error)
                return socket.respond(500, "Internal server error\n")
            status = _status_of(result)
            if status >= 400:
                body = result.get("body") if isinstance(result, dict) else None
                return socket.respond(status, (body if isinstance(body, str) else "Forbidden") + "\n")
        socket.gateway_connection = connection
        # a client that leaves before the upgrade completes is never served: it still disconnects
        socket.connection_lost_waiter.add_done_callback(lambda _: self._lost_before_session(connection))
        return None

    def _lost_before_session(self, connection: Connection) -> None:
        if not connection.in_session:
            asyncio.ensure_future(self._disconnected(connection, 1006, "Going away"))

    async def _session(self, socket: Any) -> None:
        connection: Connection | None = getattr(socket, "gateway_connection", None)
        if connection is None:
            return
        from websockets.exceptions import ConnectionClosed

        connection.in_session = True
        connection.outbox = asyncio.Queue(maxsize=OUTBOX_FRAMES)
        writer = asyncio.create_task(self._write(connection))
        self.connections[connection.connection_id] = connection
        try:
            async for message in socket:
                connection.last_active_at = _millis()
                if isinstance(message, bytes):
                    await socket.close(1003, "Unsupported data")
                    break
                if MESSAGE not in self.handlers:
                    continue
                await self._message(connection, message)
        except ConnectionClosed:
            pass
        finally:
            self.connections.pop(connection.connection_id, None)
            writer.cancel()
            code = connection.gateway_close_code or (socket.close_code if socket.close_code is not None else 1006)
            reason = connection.closed_by_gateway or socket.close_reason or ""
            await self._disconnected(connection, code, reason)

    def _close(self, connection: Connection, code: int, reason: str) -> None:
        """The gateway ends a connection (DeleteConnection, a limit): its `$disconnect` carries this code."""
        self.connections.pop(connection.connection_id, None)
        connection.gateway_close_code = code
        connection.closed_by_gateway = reason
        asyncio.create_task(connection.socket.close(code, reason))

    @staticmethod
    async def _write(connection: Connection) -> None:
        """Send the connection's posted frames in the order they were posted."""
        from websockets.exceptions import ConnectionClosed

        while True:
            frame = await connection.outbox.get()
            try:
                await connection.socket.send(frame)
            except ConnectionClosed:
                return

    async def _message(self, connection: Connection, body: str) -> None:
        context = self._request_context(MESSAGE, "MESSAGE", connection, messageId=new_connection_id())
        event = {"requestContext": context, "body": body, "isBase64Encoded": False}
        try:
            await self._call(MESSAGE, event)
        except Exception as error:  # noqa: BLE001 - API Gateway tells the sender, not the others
            _log_handler_error(MESSAGE, connection.connection_id, error)
            payload = {"message": "Internal server error", "connectionId": connection.connection_id,
                       "requestId": context["requestId"]}
            try:
                await connection.socket.send(json.dumps(payload))
            except Exception:  # noqa: BLE001
                pass

    async def _disconnected(self, connection: Connection, code: int, reason: str) -> None:
        if connection.disconnected or DISCONNECT not in self.handlers:
            return
        connection.disconnected = True
        context = self._request_context(DISCONNECT, "DISCONNECT", connection,
                                        disconnectStatusCode=code, disconnectReason=reason)
        event = {"headers": {"Host": self.domain_name, "X-Forwarded-For": connection.source_ip},
                 "multiValueHeaders": {"Host": [self.domain_name], "X-Forwarded-For": [connection.source_ip]},
                 "requestContext": context, "isBase64Encoded": False}
        try:
            await self._call(DISCONNECT, event)
        except Exception as error:  # noqa: BLE001 - best effort, as deployed
            _log_handler_error(DISCONNECT, connection.connection_id, error)

    async def _sweep(self) -> None:
        """Close connections past API Gateway's idle timeout or maximum duration."""
        interval = max(0.05, min(self.idle_timeout, self.max_duration) / 10)
        while True:
            await asyncio.sleep(interval)
            now = _millis()
            for connection in list(self.connections.values()):
                idle = (now - connection.last_active_at) / 1000 >= self.idle_timeout
                too_long = (now - connection.connected_at) / 1000 >= self.max_duration
                if idle or too_long:
                    self._close(connection, 1001, "Going away")

    # -- management API -----------------------------------------------------------------------

    async def _serve_management(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """A small HTTP/1.1 server (keep-alive, Content-Length bodies): all boto3 sends here."""
        try:
            while True:
                request_line = await reader.readline()
                if not request_line.strip():
                    break
                method, target, _ = request_line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                if headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                length = int(headers.get("content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                status, reason, response_headers, payload = await self._management(method, target, body)
                close = headers.get("connection", "").lower() == "close"
                head = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(payload)}",
                        f"x-amzn-RequestId: {uuid.uuid4()}", f"Connection: {'close' if close else 'keep-alive'}"]
                head += [f"{name}: {value}" for name, value in response_headers.items()]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
                await writer.drain()
                if close:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, asyncio.CancelledError):
            pass  # the client went away, or the gateway is stopping
        finally:
            writer.close()

    async def _management(self, method: str, target: str, body: bytes) -> tuple[int, str, dict, bytes]:
        self.management_calls += 1
        path = urlsplit(target).path
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == self.stage:
            parts = parts[1:]
        if len(parts) != 2 or parts[0] != "@connections" or not parts[1]:
            return _error(404, "Not Found", "NotFoundException", "No method found matching route")
        connection = self.connections.get(unquote(parts[1]))
        if connection is None:
            return _error(410, "Gone", "GoneException", None)
        if method == "POST":
            if len(body) > MAX_MESSAGE_BYTES:
                return _error(413, "Payload Too Large", "PayloadTooLargeException", "Message too long")
            from websockets.protocol import State

            try:
                text = body.decode()
            except UnicodeDecodeError:
                frame: str | bytes = body
            else:
                frame = text
            if connection.socket.state is not State.OPEN:
                self.connections.pop(connection.connection_id, None)
                return _error(410, "Gone", "GoneException", None)
            try:
                connection.outbox.put_nowait(frame)
            except asyncio.QueueFull:
                self._close(connection, 1008, "Too slow")
                return _error(410, "Gone", "GoneException", None)
            connection.last_active_at = _millis()
            return 200, "OK", {"Content-Type": "application/json"}, b""
        if method == "GET":
            info = {"connectedAt": _iso(connection.connected_at), "lastActiveAt": _iso(connection.last_active_at),
                    "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent}}
            return 200, "OK", {"Content-Type": "application/json"}, json.dumps(info).encode()
        if method == "DELETE":
            self._close(connection, 1000, "")
            return 204, "No Content", {}, b""
        return _error(405, "Method Not Allowed", "MethodNotAllowedException", f"Unsupported method: {method}")


def raise_open_files_limit(wanted: int = 65_536) -> int:
    """Every socket is a file descriptor: lift the soft limit (256 on macOS, often 1,024 on Linux)
    towards the hard one, so thousands of viewers can connect. Returns the soft limit now in force."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return target
        except (ValueError, OSError):
            pass
    return soft


def _error(status: int, reason: str, code: str, message: str | None) -> tuple[int, str, dict, bytes]:
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code}
    return status, reason, headers, json.dumps({"message": message}).encode()


def _status_of(result: Any) -> int:
    if isinstance(result, dict):
        try:
            return int(result.get("statusCode", 200))
        except (TypeError, ValueError):
            return 500
    return 200


def _log_handler_error(route_key: str, connection_id: str, error: BaseException) -> None:
    from chalicelib.observability import logger

    logger.error("websocket handler failed", extra={"route_key": route_key, "connection_id": connection_id,
                                                     "error": f"{type(error).__name__}: {error}"})


def _quiet_logger() -> Any:
    """websockets logs every refused handshake and dropped client; the gateway's own lines say what matters."""
    import logging

    quiet = logging.getLogger("jianghu.ws_gateway.websockets")
    quiet.setLevel(logging.CRITICAL)
    quiet.propagate = False
    return quiet
