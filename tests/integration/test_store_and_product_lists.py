"""Discovery: the store directory (`GET /merchants?label=&tier=`) and `GET /products?label=`."""

from __future__ import annotations

from tests.support.advice import product
from tests.support.api import call


def open_store(client, users, name, labels):
    merchant = users(name, groups=("merchants",))
    response = call(client, "PUT", "/merchants/me", merchant, {"store_name": name.title(), "labels": labels})
    assert response.status_code == 200, response.data
    return merchant


def score(client, judges, merchant, value):
    for judge in judges:
        assert call(client, "PUT", f"/merchants/{merchant.user_id}/ratings/me", judge,
                    {"score": value}).status_code == 200


def ids(response):
    assert response.status_code == 200, response.data
    return [item["merchant_id"] for item in response.data["items"]]


def test_the_directory_lists_rated_stores_first_by_tier_then_newest(client, users, chaos_streams):
    judges = [users(f"judge{i}", groups=("judges",)) for i in range(3)]
    bronze = open_store(client, users, "bronze", ["camera"])
    gold = open_store(client, users, "gold", ["camera", "lolita"])
    plain_old = open_store(client, users, "plainold", ["camera"])
    plain_new = open_store(client, users, "plainnew", ["lolita"])
    score(client, judges, bronze, 62)
    score(client, judges, gold, 85)
    chaos_streams.drain()
    shopper = users("shopper")
    assert ids(call(client, "GET", "/merchants", shopper)) == [
        gold.user_id, bronze.user_id, plain_new.user_id, plain_old.user_id]
    assert ids(call(client, "GET", "/merchants?label=camera", shopper)) == [
        gold.user_id, bronze.user_id, plain_old.user_id]
    assert ids(call(client, "GET", "/merchants?label=lolita&tier=gold", shopper)) == [gold.user_id]
    page = call(client, "GET", "/merchants?label=camera&tier=gold", shopper).data["items"]
    assert (page[0]["tier"], page[0]["badge"], page[0]["store_name"]) == ("gold", "tier-gold", "Gold")
    # When a store changes its labels and loses its tier, the lists follow (under replayed records too)
    assert call(client, "PUT", "/merchants/me", gold, {"store_name": "Gold", "labels": ["lolita"]}).status_code == 200
    score(client, judges, gold, 10)
    chaos_streams.drain()
    assert ids(call(client, "GET", "/merchants?label=camera", shopper)) == [bronze.user_id, plain_old.user_id]
    assert ids(call(client, "GET", "/merchants?label=lolita", shopper)) == [plain_new.user_id, gold.user_id]
    assert ids(call(client, "GET", "/merchants?tier=gold", shopper)) == []


def test_the_directory_pages_and_checks_its_input(client, users, streams):
    stores = [open_store(client, users, f"store{i}", ["camera"]) for i in range(3)]
    streams.drain()
    shopper = users("shopper")
    first = call(client, "GET", "/merchants?label=camera&limit=2", shopper)
    second = call(client, "GET", f"/merchants?label=camera&limit=2&cursor={first.data['next_cursor']}", shopper)
    assert ids(first) + ids(second) == [s.user_id for s in reversed(stores)]
    for query, field in (("label=nope", "label"), ("tier=diamond", "tier"), ("limit=x", "limit")):
        response = call(client, "GET", f"/merchants?{query}", shopper)
        assert response.status_code == 400 and field in response.data["Message"], (query, response.data)


def test_products_are_listed_newest_first_by_label(client, users, chaos_streams):
    store = open_store(client, users, "lens", ["camera"])
    old = product(client, store, title="Old camera", labels=("camera",))
    other = product(client, store, title="Dress", labels=("lolita",))
    new = product(client, store, title="New camera", labels=("camera", "lolita"))
    chaos_streams.drain()
    shopper = users("shopper")

    def listed(query=""):
        response = call(client, "GET", f"/products{query}", shopper)
        assert response.status_code == 200, response.data
        return [item["product_id"] for item in response.data["items"]]

    assert listed("?label=camera") == [new["product_id"], old["product_id"]]
    assert listed("?label=lolita") == [new["product_id"], other["product_id"]]
    assert listed() == [new["product_id"], other["product_id"], old["product_id"]]
    first = call(client, "GET", "/products?limit=2", shopper).data
    rest = call(client, "GET", f"/products?limit=2&cursor={first['next_cursor']}", shopper).data
    assert [p["product_id"] for p in first["items"] + rest["items"]] == listed()
    bad = call(client, "GET", "/products?label=nope", shopper)
    assert bad.status_code == 400 and "label" in bad.data["Message"]


def test_a_product_whose_labels_change_or_that_is_removed_leaves_the_lists(client, users, streams):
    from chalicelib.models.advice import Product

    store = open_store(client, users, "lens", ["camera"])
    item = product(client, store, labels=("camera",))
    streams.drain()
    Product(item["product_id"]).update(actions=[Product.labels.set(["lolita"])])
    streams.drain()
    shopper = users("shopper")
    assert call(client, "GET", "/products?label=camera", shopper).data["items"] == []
    assert [p["product_id"] for p in call(client, "GET", "/products?label=lolita", shopper).data["items"]] == [
        item["product_id"]]
    Product(item["product_id"]).delete()
    streams.drain()
    assert call(client, "GET", "/products", shopper).data["items"] == []
