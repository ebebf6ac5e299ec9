"""Write amplification of the search index: entries written per item, through the real stream path.

Each scenario writes one item through the routes (or, for moderation, sets `removed_at` as the
moderation service does), drains the streams, and counts what `services.search.reindex` put and
deleted for it. The bound (`domain.search`): 48 entries when an item appears or leaves, 96 when it
is renamed; each entry is one write unit (an entry is far below 1 KB).
"""

from __future__ import annotations

import contextlib

from bench.operations import _ok, _profile
from tests.support.api import call

TYPICAL = {
    "store": "Lens Corner Shanghai",
    "product_en": "Pocket camera with 35mm lens, black",
    "product_zh": "2024新款夏季女装连衣裙 修身显瘦",
    "product_long": "Vintage leather camera bag for mirrorless cameras, waterproof, with shoulder strap and "
                    "padded dividers",
    "user": "Alice Wonder",
}


@contextlib.contextmanager
def counting():
    """Count, per item, the entries `reindex` puts and deletes inside the block (the stream effects
    call it): {"kind:item_id": {"put": n, "deleted": n}} (a store's id is its owner's user id)."""
    from chalicelib.services import search

    counted: dict[str, dict[str, int]] = {}
    original = search.reindex

    def reindex(source, change):
        put, deleted = original(source, change)
        item_id = str(change.keys.get(source.id_attr) or change.item[source.id_attr])
        mine = counted.setdefault(f"{source.kind}:{item_id}", {"put": 0, "deleted": 0})
        mine["put"] += put
        mine["deleted"] += deleted
        return put, deleted

    search.reindex = reindex
    try:
        yield counted
    finally:
        search.reindex = original


def _written(world, kind: str, write) -> dict:
    """What the streams did to the entries of the item `write()` names (earlier records delivered first)."""
    world.streams.drain()
    item_id = write()
    with counting() as counted:
        world.streams.drain()
    return counted.get(f"{kind}:{item_id}", {"put": 0, "deleted": 0})


def measure(world) -> dict:
    from chalicelib.domain.search import MAX_KEYS_PER_ITEM

    results: dict[str, dict] = {}
    store = world.users("ampstore", groups=("merchants",))

    def put_store(name):
        _ok(call(world.client, "PUT", "/merchants/me", store, {"store_name": name, "labels": ["camera"]}))
        return store.user_id

    results["store_created"] = _written(world, "store", lambda: put_store(TYPICAL["store"]))
    results["store_renamed"] = _written(world, "store", lambda: put_store("Prism Optics Shanghai"))
    made: list[str] = []

    def create_product(key: str) -> str:
        body = {"title": TYPICAL[key], "price_cents": 1000, "labels": ["camera"]}
        made.append(_ok(call(world.client, "POST", "/products", store, body), 201)["product_id"])
        return made[-1]

    for key in ("product_en", "product_zh", "product_long"):
        results[f"{key}_created"] = _written(world, "product", lambda key=key: create_product(key))
    product_id = made[-1]  # the long title: its entries are at the cap
    results["product_price_changed"] = _written(world, "product", lambda: _ok(call(
        world.client, "PATCH", f"/products/{product_id}", store, {"price_cents": 1200})) and product_id)
    results["product_deleted"] = _written(world, "product", lambda: _ok(call(
        world.client, "DELETE", f"/products/{product_id}", store), 204) or product_id)
    # a new user's first write creates a profile with a default name; PUT /me then names them "Alice"
    results["user_signed_up_and_named"] = _written(world, "user", lambda: _profile(world, "alice").user_id)
    worst = max(max(counted["put"], counted["deleted"]) for counted in results.values())
    renamed = results["store_renamed"]["put"] + results["store_renamed"]["deleted"]
    return {"entries_written": results, "max_entries_per_item_event": worst, "renamed_store_writes": renamed,
            "bound_per_item": MAX_KEYS_PER_ITEM, "bound_per_rename": 2 * MAX_KEYS_PER_ITEM}
