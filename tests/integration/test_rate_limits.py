"""The per-user write limit: a clear 429 with Retry-After, one counter per user per minute."""

import pytest

from chalicelib.config import reset_settings
from tests.support.api import call


@pytest.fixture
def limit_of_three(monkeypatch):
    monkeypatch.setenv("WRITE_LIMIT_PER_MINUTE", "3")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


def test_writes_beyond_the_limit_get_429_with_retry_after(client, users, limit_of_three):
    # Given a shopper allowed three writes a minute
    alice, bob = users(), users()
    # When she writes four times
    statuses = [call(client, "PUT", "/me", alice, {"display_name": f"Alice {i}"}).status_code for i in range(4)]
    # Then the fourth is refused, with a hint of when to come back
    assert statuses == [200, 200, 200, 429]
    refused = call(client, "PUT", "/me", alice, {"display_name": "Alice"})
    assert refused.data["Code"] == "TooManyRequestsError"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # And reads, and other users' writes, are not affected
    assert call(client, "GET", "/me", alice).status_code == 200
    assert call(client, "PUT", "/me", bob, {"display_name": "Bob"}).status_code == 200


def test_a_new_minute_starts_a_new_budget(tables, limit_of_three):
    from chalicelib.errors import TooManyRequests
    from chalicelib.services.rate_limits import consume_write

    minute = 1_800_000_000 - 1_800_000_000 % 60
    for _ in range(3):
        consume_write("u1", now=minute + 5)
    with pytest.raises(TooManyRequests) as refused:
        consume_write("u1", now=minute + 50)
    assert refused.value.headers["Retry-After"] == "10"
    consume_write("u1", now=minute + 61)
