"""The local stack signs cursors with a fresh random key per start unless one is configured."""

from __future__ import annotations

from pathlib import Path

from chalicelib.local.stack import LocalStack, local_cursor_secret


def _stack() -> LocalStack:
    return LocalStack(port=0, moto_port=0, state_file=Path("/nonexistent/stack.json"))


def test_each_start_gets_its_own_random_key_not_the_public_default(monkeypatch):
    monkeypatch.delenv("CURSOR_SECRET", raising=False)
    keys = {_stack().cursor_secret for _ in range(3)}
    assert len(keys) == 3
    assert all(len(key) >= 32 for key in keys)
    assert not keys & {"jianghu-dev-cursor-key", "jianghu-test-cursor-key"}


def test_a_configured_key_is_kept(monkeypatch):
    monkeypatch.setenv("CURSOR_SECRET", "k" * 40)
    assert _stack().cursor_secret == "k" * 40
    assert local_cursor_secret({"CURSOR_SECRET": "configured"}) == "configured"
