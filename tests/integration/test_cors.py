"""CORS: the stage's allowed origins, a preflight without a token, and the headers on every answer,
errors included, from the app and from the local server (issue #14)."""

from __future__ import annotations

import http.client
import threading

import pytest

from chalicelib.config import reset_settings
from tests.support.api import call

WEB = "http://localhost:3000"
ELSEWHERE = "https://evil.example"


def _preflight(client, path: str, origin: str):
    return client.http.request("OPTIONS", path, headers={
        "Origin": origin, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,content-type"})


def test_a_preflight_needs_no_token_and_echoes_an_allowed_origin(client):
    response = _preflight(client, "/users/someone/follow", WEB)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == WEB
    assert set(response.headers["Access-Control-Allow-Methods"].split(",")) == {"PUT", "DELETE", "OPTIONS"}
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert response.headers["Vary"] == "Origin"


def test_an_origin_not_on_the_list_is_not_echoed(client):
    response = _preflight(client, "/me", ELSEWHERE)
    assert "Access-Control-Allow-Origin" not in response.headers
    response = client.http.request("GET", "/health", headers={"Origin": ELSEWHERE})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_the_stage_names_its_origins(client, monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "https://shop.example, https://m.shop.example")
    assert _preflight(client, "/me", "https://m.shop.example").headers["Access-Control-Allow-Origin"] == \
        "https://m.shop.example"
    # the local defaults are not allowed on a stage that names its own
    assert "Access-Control-Allow-Origin" not in _preflight(client, "/me", WEB).headers


def test_successes_and_errors_carry_the_cors_headers(client, users, monkeypatch):
    alice, bob = users("alice"), users("bob")
    origin = {"Origin": WEB}
    answers = {
        200: call(client, "GET", "/me", alice, headers=origin),
        401: client.http.request("GET", "/me", headers=origin),
        404: call(client, "GET", "/users/nobody", alice, headers=origin),
    }
    call(client, "PUT", f"/users/{alice.user_id}/block", bob)
    answers[403] = call(client, "PUT", f"/users/{bob.user_id}/follow", alice, headers=origin)
    monkeypatch.setenv("WRITE_LIMIT_PER_MINUTE", "1")
    reset_settings()
    try:
        answers[429] = call(client, "PUT", "/me", alice, {"display_name": "Alice"}, headers=origin)  # her 2nd write
    finally:
        monkeypatch.undo()
        reset_settings()
    for status, response in answers.items():
        assert response.status_code == status, (status, response.body)
        assert response.headers["Access-Control-Allow-Origin"] == WEB, status
        assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]


@pytest.fixture
def local_server(aws):
    from app import app
    from chalicelib.local.stack import _api_server

    server = _api_server(app, "test", "127.0.0.1", 0)
    serving = threading.Thread(target=server.server.serve_forever, daemon=True)
    serving.start()
    yield server.server.server_address[1]
    server.server.shutdown()
    server.server.server_close()


def _ask(port: int, method: str, path: str, headers: dict) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_the_local_server_answers_preflights_and_its_own_errors_with_cors(local_server):
    origin = {"Origin": WEB}
    preflight = _ask(local_server, "OPTIONS", "/feed", {**origin, "Access-Control-Request-Method": "GET"})
    assert (preflight.status, preflight.getheader("Access-Control-Allow-Origin")) == (204, WEB)
    for method, path, status in (("GET", "/no/such/route", 404), ("GET", "/me", 401), ("TRACE", "/me", 405)):
        response = _ask(local_server, method, path, origin)
        assert (response.status, response.getheader("Access-Control-Allow-Origin")) == (status, WEB), (method, path)
