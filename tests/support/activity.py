"""Helpers for activity sharing scenarios."""

from __future__ import annotations

from tests.support.api import call


def share(client, user, **switches: bool) -> dict:
    response = call(client, "PUT", "/me/sharing", user, switches)
    assert response.status_code == 200, response.data
    return response.data


def feed_items(client, user) -> list[dict]:
    """Every item of the user's home feed, newest first (posts and activities alike)."""
    items: list[dict] = []
    cursor = None
    while True:
        response = call(client, "GET", "/feed?limit=50" + (f"&cursor={cursor}" if cursor else ""), user)
        assert response.status_code == 200, response.data
        items += response.data["items"]
        cursor = response.data["next_cursor"]
        if not cursor:
            return items


def feed_activities(client, user) -> list[dict]:
    """The activities of the user's home feed, newest first."""
    return [item["activity"] for item in feed_items(client, user) if item["kind"] == "activity"]


def activity_holders(activity_id: str, reader_ids) -> set[str]:
    from tests.support.posts import holders_of

    return holders_of(activity_id, reader_ids)


def open_store(client, merchant, name: str = "Lens Shop") -> None:
    response = call(client, "PUT", "/merchants/me", merchant, {"store_name": name, "labels": []})
    assert response.status_code in (200, 201), response.data
