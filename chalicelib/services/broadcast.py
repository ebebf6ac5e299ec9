"""Posting one payload to many WebSocket connections through API Gateway's management API.

The management API has no batch call: a broadcast to N connections is N `PostToConnection`
calls. They are I/O bound, so they are split across a pool of sender threads sharing one boto3
client (clients are thread-safe; its HTTP pool holds one connection per sender). A connection
that answers 410 (`GoneException`) has gone away without its `$disconnect` having been handled
yet: it is reported, and `on_gone` lets the caller forget it. Any other error is counted as
failed and never raised, so one bad connection cannot stop a broadcast to the others.

The endpoint is `WEBSOCKET_MANAGEMENT_URL`: deployed
`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`, locally the management URL of the
local gateway (`chalicelib/local/ws_gateway.py`).
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from chalicelib.config import DEFAULT_REGION, ConfigError

MANAGEMENT_URL_ENV = "WEBSOCKET_MANAGEMENT_URL"

#: Parallel senders of one broadcast. A management call takes a few milliseconds of network wait
#: and almost no CPU, so a Lambda's one or two vCPUs keep 32 calls in flight; 100,000 viewers are
#: ~3,000 calls per sender.
DEFAULT_SENDERS = 32

#: The most senders one broadcast may ask for (each holds a thread and a pooled HTTP connection).
MAX_SENDERS = 128


@dataclass
class SendReport:
    """What one broadcast did: `sent` calls answered 200, `gone` answered 410, `failed` anything else."""

    sent: int = 0
    gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def calls(self) -> int:
        """Management API calls made: one per connection."""
        return self.sent + len(self.gone) + len(self.failed)


def management_url(environ: Any = None) -> str:
    url = (environ if environ is not None else os.environ).get(MANAGEMENT_URL_ENV, "")
    if not url:
        raise ConfigError(f"{MANAGEMENT_URL_ENV} is not set: the WebSocket API's management endpoint "
                          "(https://{api-id}.execute-api.{region}.amazonaws.com/{stage}, or the local gateway's)")
    return url.rstrip("/")


@functools.lru_cache(maxsize=4)
def _client(endpoint_url: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        max_pool_connections=MAX_SENDERS,
        retries={"mode": "standard", "max_attempts": 3},  # LimitExceeded (429) is retried, 410 is not
        connect_timeout=5,
        read_timeout=10,
    )
    return boto3.session.Session().client("apigatewaymanagementapi", endpoint_url=endpoint_url,
                                           region_name=region, config=config)


def management_client() -> Any:
    """The `apigatewaymanagementapi` client for `WEBSOCKET_MANAGEMENT_URL`, created once and shared."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    return _client(management_url(), region)


def reset_management_client() -> None:
    """Forget cached clients (tests point the variable at another gateway)."""
    _client.cache_clear()


def encode_payload(payload: dict | bytes) -> bytes:
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _is_gone(error: Exception) -> bool:
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return False
    code = response.get("Error", {}).get("Code")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code == "GoneException" or status == 410


def send_to_connections(connection_ids: Iterable[str], payload: dict | bytes, *,
                        on_gone: Callable[[str], None] | None = None,
                        senders: int = DEFAULT_SENDERS, client: Any = None) -> SendReport:
    """Post `payload` (a dict is sent as compact JSON) to every connection, one call each, in parallel.

    Duplicate ids are sent once. `on_gone` runs in the calling thread after the sends, once per
    gone connection; an exception it raises is logged, not raised. `client` overrides
    `management_client()` (the bench compares against a bare loop over the same client).
    """
    ids = list(dict.fromkeys(connection_ids))
    report = SendReport()
    if not ids:
        return report
    data = encode_payload(payload)
    client = client if client is not None else management_client()
    lock = threading.Lock()

    def send(connection_id: str) -> None:
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=data)
        except Exception as error:  # noqa: BLE001 - a broadcast never raises for one connection
            gone = _is_gone(error)
            with lock:
                (report.gone if gone else report.failed).append(connection_id)
            if not gone:
                _log_failure(connection_id, error)
            return
        with lock:
            report.sent += 1

    workers = max(1, min(senders, MAX_SENDERS, len(ids)))
    if workers == 1:
        for connection_id in ids:
            send(connection_id)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ws-sender") as pool:
            for _ in pool.map(send, ids):
                pass
    if on_gone is not None:
        for connection_id in report.gone:
            try:
                on_gone(connection_id)
            except Exception as error:  # noqa: BLE001
                _log_failure(connection_id, error, during="on_gone")
    return report


def _log_failure(connection_id: str, error: Exception, during: str = "post_to_connection") -> None:
    from chalicelib.observability import logger

    logger.warning("websocket send failed", extra={"connection_id": connection_id, "during": during,
                                                   "error": f"{type(error).__name__}: {error}"})
