"""Live rooms in tests: the local WebSocket gateway over the app, and viewers on real sockets."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta

from chalicelib.domain.ids import iso, utc_now
from tests.support.api import call


def create_product(client, merchant, title: str = "Mirrorless camera") -> dict:
    body = {"title": title, "price_cents": 129900, "labels": ["camera"]}
    response = call(client, "POST", "/products", merchant, body)
    assert response.status_code == 201, response.data
    return response.data


def create_room(client, merchant, *, minutes_ahead: float | None = 5, **extra) -> dict:
    body = {"title": "Double-11 camera deals", "labels": ["camera"], **extra}
    if minutes_ahead is not None:
        body["scheduled_at"] = iso(utc_now() + timedelta(minutes=minutes_ahead))
    response = call(client, "POST", "/live", merchant, body)
    assert response.status_code == 201, response.data
    return response.data


class Viewer:
    """One real WebSocket client (websockets' sync client) that keeps every frame it receives."""

    def __init__(self, ws_url: str, room_id: str, token: str):
        from websockets.sync.client import connect

        self.socket = connect(f"{ws_url}/?room_id={room_id}&token={token}", open_timeout=10)
        self.frames: list[dict] = []

    def send(self, message: dict | str) -> None:
        self.socket.send(message if isinstance(message, str) else json.dumps(message))

    def pump(self, timeout: float = 0.05) -> None:
        """Read whatever arrived (bundles opened into their events)."""
        while True:
            try:
                raw = self.socket.recv(timeout=timeout)
            except TimeoutError:
                return
            frame = json.loads(raw)
            self.frames.extend(frame["events"] if frame.get("type") == "bundle" else [frame])

    def events(self, kind: str) -> list[dict]:
        """Events of one type, duplicates (a replayed record's) dropped by event_id as clients do."""
        seen: dict[str, dict] = {}
        for frame in self.frames:
            if frame.get("type") == kind:
                seen.setdefault(frame["event_id"], frame)
        return list(seen.values())

    def wait_for(self, kind: str, predicate: Callable[[list[dict]], bool] = bool, timeout: float = 30.0,
                 between: Callable[[], object] | None = None) -> list[dict]:
        deadline = time.time() + timeout
        while True:
            self.pump()
            found = self.events(kind)
            if predicate(found):
                return found
            if time.time() > deadline:
                raise AssertionError(f"no {kind} event as expected; got {self.frames[-5:]}")
            if between is not None:
                between()

    def close(self) -> None:
        self.socket.close()
