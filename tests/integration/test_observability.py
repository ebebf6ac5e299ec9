"""Logs, metrics and correlation ids as operators see them."""

import json

from tests.support.api import call


def _json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                pass
    return lines


def test_stream_handlers_publish_emf_metrics(client, users, streams, capsys, monkeypatch):
    # Given metrics switched on, as in a deployed stage
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    alice, bob = users(), users()
    call(client, "GET", "/me", bob)
    call(client, "PUT", f"/users/{bob.user_id}/follow", alice)
    capsys.readouterr()
    # When the follow reaches its stream handler
    streams.drain()
    # Then an EMF document counts the records it handled
    documents = [d for d in _json_lines(capsys.readouterr().out) if "_aws" in d]
    follow_metrics = [d for d in documents if d.get("handler") == "update_follow_graph"]
    assert follow_metrics, documents
    assert follow_metrics[0]["StreamRecords"] == 1.0 or follow_metrics[0]["StreamRecords"] == [1.0]
    assert follow_metrics[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Jianghu"


def test_request_logs_carry_the_correlation_id(client, users, caplog):
    from chalicelib.observability import logger

    # Given a shopper's request through the API
    alice = users()
    response = call(client, "GET", "/me", alice)
    assert response.status_code == 200
    correlation_id = logger.get_correlation_id()
    # Then the logger took the request's id, the client sees it, and every line logged carries it
    assert correlation_id and response.headers["X-Correlation-Id"] == correlation_id
    logger.setLevel("INFO")
    try:
        with caplog.at_level("INFO", logger="jianghu"):
            logger.info("answered")
        line = json.loads(logger.registered_formatter.format(caplog.records[-1]))
    finally:
        logger.setLevel("CRITICAL")
    assert line["correlation_id"] == correlation_id
    assert line["service"] == "jianghu" and line["message"] == "answered"


def test_a_clients_correlation_id_is_kept(client, users):
    alice = users()
    response = call(client, "GET", "/me", alice, headers={"X-Correlation-Id": "checkout-42"})
    assert response.headers["X-Correlation-Id"] == "checkout-42"
