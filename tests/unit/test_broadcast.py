"""send_to_connections: one management call per connection, 410 -> gone, other errors -> failed."""

from __future__ import annotations

import json
import threading
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from chalicelib.config import ConfigError
from chalicelib.services import broadcast


def _client():
    return boto3.client("apigatewaymanagementapi", endpoint_url="https://abc.execute-api.us-east-1.amazonaws.com/dev",
                        region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_one_call_per_connection_gone_and_failed_are_reported_and_on_gone_is_called():
    # Given a client whose answers are stubbed in order (one sender keeps the order)
    client = _client()
    stub = Stubber(client)
    data = json.dumps({"type": "pin", "event_id": "e1"}, separators=(",", ":")).encode()
    stub.add_response("post_to_connection", {}, {"ConnectionId": "a", "Data": data})
    stub.add_client_error("post_to_connection", service_error_code="GoneException", http_status_code=410,
                          expected_params={"ConnectionId": "b", "Data": data})
    stub.add_client_error("post_to_connection", service_error_code="LimitExceededException",
                          http_status_code=429, expected_params={"ConnectionId": "c", "Data": data})
    gone: list[str] = []
    # When a payload goes to three connections (one listed twice)
    with stub:
        report = broadcast.send_to_connections(["a", "b", "c", "a"], {"type": "pin", "event_id": "e1"},
                                               on_gone=gone.append, senders=1, client=client)
        stub.assert_no_pending_responses()
    # Then each was called once, and the answers are sorted out
    assert (report.sent, report.gone, report.failed, report.calls) == (1, ["b"], ["c"], 3)
    assert gone == ["b"]


class SlowClient:
    """post_to_connection waits 20 ms like a network call and records who called it, from which thread."""

    def __init__(self, gone=()):
        self.calls: list[tuple[str, bytes]] = []
        self.threads: set[str] = set()
        self.gone = set(gone)
        self.lock = threading.Lock()

    def post_to_connection(self, ConnectionId, Data):  # noqa: N803 - boto3's names
        time.sleep(0.02)
        with self.lock:
            self.calls.append((ConnectionId, Data))
            self.threads.add(threading.current_thread().name)
        if ConnectionId in self.gone:
            raise ClientError({"Error": {"Code": "GoneException", "Message": "gone"},
                               "ResponseMetadata": {"HTTPStatusCode": 410}}, "PostToConnection")
        if ConnectionId == "boom":
            raise RuntimeError("connection reset")


def test_calls_are_split_across_parallel_senders():
    client = SlowClient(gone={"c7"})
    ids = [f"c{i}" for i in range(40)] + ["boom"]
    report = broadcast.send_to_connections(ids, b"raw", senders=8, client=client)
    assert sorted(c for c, _ in client.calls) == sorted(ids)
    assert {d for _, d in client.calls} == {b"raw"}
    assert len(client.threads) == 8
    assert report.sent == 39 and report.gone == ["c7"] and report.failed == ["boom"]


def test_on_gone_errors_are_not_raised():
    def forget(connection_id):
        raise RuntimeError("table down")

    report = broadcast.send_to_connections(["c1", "c2"], {}, on_gone=forget, client=SlowClient(gone={"c1", "c2"}))
    assert sorted(report.gone) == ["c1", "c2"]


def test_no_connections_needs_no_client(monkeypatch):
    monkeypatch.delenv("WEBSOCKET_MANAGEMENT_URL", raising=False)
    assert broadcast.send_to_connections([], {"x": 1}).calls == 0


def test_management_client_is_cached_per_url_and_needs_the_url(monkeypatch):
    broadcast.reset_management_client()
    monkeypatch.delenv("WEBSOCKET_MANAGEMENT_URL", raising=False)
    with pytest.raises(ConfigError, match="WEBSOCKET_MANAGEMENT_URL"):
        broadcast.management_client()
    monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", "https://abc.execute-api.us-east-1.amazonaws.com/dev/")
    client = broadcast.management_client()
    assert client is broadcast.management_client()
    assert client.meta.endpoint_url == "https://abc.execute-api.us-east-1.amazonaws.com/dev"
    monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", "http://127.0.0.1:9/")
    assert broadcast.management_client() is not client
    broadcast.reset_management_client()
