"""Reading a user's points through the API: the balance always checked against its ledger."""

from __future__ import annotations

from tests.support.api import call


def points(client, user) -> dict:
    response = call(client, "GET", "/me/points", user)
    assert response.status_code == 200, response.data
    return response.data


def ledger(client, user) -> list[dict]:
    entries, cursor = [], None
    while True:
        path = "/me/points/ledger?limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = call(client, "GET", path, user).data
        entries += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return entries


def balance(client, user) -> int:
    """The balance, checked against the ledger it must always equal."""
    value = points(client, user)["balance"]
    assert sum(entry["amount"] for entry in ledger(client, user)) == value
    return value
