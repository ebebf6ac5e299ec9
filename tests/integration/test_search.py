"""Discovery through the real stream path: search by word prefixes, the circle directory, suggestions."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.support.advice import ask, product
from tests.support.api import call


def named(client, users, name, display_name, labels=()):
    user = users(name)
    response = call(client, "PUT", "/me", user, {"display_name": display_name, "labels": list(labels)})
    assert response.status_code == 200, response.data
    return user


def open_store(client, users, name, store_name, labels=("camera",)):
    merchant = users(name, groups=("merchants",))
    response = call(client, "PUT", "/merchants/me", merchant, {"store_name": store_name, "labels": list(labels)})
    assert response.status_code == 200, response.data
    return merchant


def search(client, user, q, kind, **extra):
    query = "&".join([f"q={quote(q)}", f"type={kind}"] + [f"{k}={v}" for k, v in extra.items()])
    response = call(client, "GET", f"/search?{query}", user)
    assert response.status_code == 200, response.data
    return response.data


def hit_ids(client, user, q, kind) -> list[str]:
    return [hit["id"] for hit in search(client, user, q, kind)["items"]]


def index_entries(kind: str, item_id: str, *names: str) -> int:
    """How many index entries an item has under every key any of `names` could give it."""
    from chalicelib.domain.search import entry_keys
    from chalicelib.models.search import SearchEntry

    keys = set().union(*(entry_keys(kind, item_id, name) for name in names))
    return sum(SearchEntry.count(key, SearchEntry.item_id == item_id) for key in keys)


def test_a_store_is_found_by_prefixes_of_its_words_folded_and_renames_reindex(client, users, chaos_streams):
    # Given a store with a mixed Latin / full-width / Chinese name
    store = open_store(client, users, "lens", "Ｌｅｎｓ Corner 上海店")
    open_store(client, users, "bags", "Bag Corner")
    chaos_streams.drain()
    shopper = users("shopper")
    # Then every word is matched as a prefix, case- and width-folded, Chinese by characters
    assert hit_ids(client, shopper, "len", "store") == [store.user_id]
    assert hit_ids(client, shopper, "LENS co", "store") == [store.user_id]
    assert hit_ids(client, shopper, "ｃｏｒ", "store") and len(hit_ids(client, shopper, "cor", "store")) == 2
    assert hit_ids(client, shopper, "上海", "store") == [store.user_id]
    assert hit_ids(client, shopper, "海 lens", "store") == [store.user_id]
    assert hit_ids(client, shopper, "lens bag", "store") == []
    assert hit_ids(client, shopper, "ens", "store") == []  # a prefix of a word, not a substring
    hit = search(client, shopper, "lens", "store")["items"][0]
    assert hit["type"] == "store" and hit["store"]["store_name"] == "Ｌｅｎｓ Corner 上海店"
    assert hit["user"] is None and hit["product"] is None
    # When the store is renamed: the old words leave the index, the new ones arrive (replays too)
    response = call(client, "PUT", "/merchants/me", store, {"store_name": "Prism Optics", "labels": ["camera"]})
    assert response.status_code == 200
    chaos_streams.drain()
    assert hit_ids(client, shopper, "lens", "store") == []
    assert hit_ids(client, shopper, "上海", "store") == []
    assert hit_ids(client, shopper, "pri opt", "store") == [store.user_id]
    from chalicelib.domain.search import entry_keys

    names = ("Ｌｅｎｓ Corner 上海店", "Prism Optics")
    assert index_entries("store", store.user_id, *names) == len(entry_keys("store", store.user_id, "Prism Optics"))


def test_users_products_questions_and_circles_are_searchable_with_their_cards(client, users, streams):
    alice = named(client, users, "alice", "Alice Wonder")
    store = open_store(client, users, "lens", "Lens Corner")
    camera = product(client, store, title="Pocket camera 口袋相机")
    question = ask(client, alice, title="Which pocket camera for travel?")
    circle = call(client, "POST", "/groups", alice,
                  {"name": "Film Cameras", "description": "grain", "label": "camera"}).data
    streams.drain()
    reader = named(client, users, "reader", "Reader")
    users_found = search(client, reader, "wond ali", "user")["items"]
    assert [(h["id"], h["user"]["display_name"]) for h in users_found] == [(alice.user_id, "Alice Wonder")]
    products_found = search(client, reader, "相机 poc", "product")["items"]
    assert [h["id"] for h in products_found] == [camera["product_id"]]
    assert products_found[0]["product"]["merchant"]["store_name"] == "Lens Corner"
    questions_found = search(client, reader, "pocket travel", "question")["items"]
    assert [h["id"] for h in questions_found] == [question["question_id"]]
    assert questions_found[0]["question"]["user"]["display_name"] == "Alice Wonder"
    circles_found = search(client, reader, "film", "circle")["items"]
    assert [h["id"] for h in circles_found] == [circle["group_id"]]
    assert circles_found[0]["circle"]["is_member"] is False
    # types do not mix: a product title is not a question
    assert hit_ids(client, reader, "口袋", "question") == []


def test_deleted_and_removed_items_leave_the_index_and_a_restore_brings_them_back(client, users, chaos_streams):
    from chalicelib.models.advice import Product
    from chalicelib.models.users import UserProfile

    store = open_store(client, users, "lens", "Lens Corner")
    camera = product(client, store, title="Pocket camera")
    gone = product(client, store, title="Pocket tripod")
    alice = named(client, users, "alice", "Alice Wonder")
    chaos_streams.drain()
    reader = users("reader")
    assert len(hit_ids(client, reader, "pocket", "product")) == 2
    # When one product is deleted and moderation removes the other (the `removed_at` convention)
    assert call(client, "DELETE", f"/products/{gone['product_id']}", store).status_code in (200, 204)
    _set_removed(Product, camera["product_id"], True)
    # and a user's profile is erased
    UserProfile(alice.user_id).delete()
    chaos_streams.drain()
    # Then none of them is found, and no entry of theirs is left
    assert hit_ids(client, reader, "pocket", "product") == []
    assert hit_ids(client, reader, "alice", "user") == []
    assert index_entries("product", gone["product_id"], "Pocket tripod") == 0
    assert index_entries("product", camera["product_id"], "Pocket camera") == 0
    assert index_entries("user", alice.user_id, "Alice Wonder") == 0
    # When moderation restores the product, it is found again
    _set_removed(Product, camera["product_id"], False)
    chaos_streams.drain()
    assert hit_ids(client, reader, "pocket", "product") == [camera["product_id"]]


def _set_attribute(model, item_id: str, name: str, value: str | None) -> None:
    """Set (or with None drop) an attribute the models do not declare, as moderation does."""
    from chalicelib.models.base import connection

    key = {model._hash_keyname: {"S": item_id}}
    if value is None:
        connection().client.update_item(TableName=model.Meta.table_name, Key=key, UpdateExpression="REMOVE #a",
                                        ExpressionAttributeNames={"#a": name})
    else:
        connection().client.update_item(TableName=model.Meta.table_name, Key=key, UpdateExpression="SET #a = :v",
                                        ExpressionAttributeNames={"#a": name},
                                        ExpressionAttributeValues={":v": {"S": value}})


def _set_removed(model, item_id: str, removed: bool) -> None:
    """What moderation does: `removed_at` set on removal, dropped on restore."""
    _set_attribute(model, item_id, "removed_at", "2026-11-30T00:00:00.000Z" if removed else None)


def test_a_suspended_user_stays_searchable(client, users, streams):
    from chalicelib.models.users import UserProfile

    alice = named(client, users, "alice", "Alice Wonder")
    streams.drain()
    _set_attribute(UserProfile, alice.user_id, "suspended_at", "2026-11-30T00:00:00.000Z")
    streams.drain()
    assert hit_ids(client, users("reader"), "alice", "user") == [alice.user_id]


def test_a_search_pages_through_every_match_once_across_product_shards(client, users, streams):
    store = open_store(client, users, "lens", "Lens Corner")
    made = [product(client, store, title=f"Lens cap {n}")["product_id"] for n in range(7)]
    product(client, store, title="Lens hood")  # matches "lens" but not "cap"
    streams.drain()
    reader = users("reader")
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = search(client, reader, "cap lens", "product", limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [hit["id"] for hit in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))
    assert seen == sorted(seen, reverse=True)  # newest first


@pytest.mark.parametrize(("query", "field"), [
    ("q=&type=store", "q"), ("type=store", "q"), ("q=" + "a" * 101 + "&type=store", "q"),
    ("q=%21%3F%20-&type=store", "q"), ("q=a+b&type=store", "q"), ("q=lens&type=shop", "type"),
    ("q=lens", "type"), ("q=lens&type=store&limit=0", "limit"), ("q=lens&type=store&cursor=zzz", "cursor"),
])
def test_bad_queries_are_400s_naming_the_field(client, users, query, field):
    response = call(client, "GET", f"/search?{query}", users("reader"))
    assert response.status_code == 400 and response.data["Message"].startswith(field), response.data


def test_the_circle_directory_lists_the_largest_circles_first_and_leaves_out_removed_ones(
        client, users, chaos_streams):
    from chalicelib.models.groups import Group

    owner = users("owner")
    small = call(client, "POST", "/groups", owner, {"name": "Small", "description": "", "label": "camera"}).data
    big = call(client, "POST", "/groups", owner, {"name": "Big", "description": "", "label": "lolita"}).data
    middle = call(client, "POST", "/groups", owner, {"name": "Middle", "description": "", "label": "camera"}).data
    for joiners, group in ((3, big), (1, middle)):
        for n in range(joiners):
            assert call(client, "PUT", f"/groups/{group['group_id']}/members/me",
                        users(f"j{n}")).status_code == 200
    chaos_streams.drain()
    reader = users("reader")

    def listed(query=""):
        response = call(client, "GET", f"/groups{query}", reader)
        assert response.status_code == 200, response.data
        return response.data

    assert [g["group_id"] for g in listed()["items"]] == [big["group_id"], middle["group_id"], small["group_id"]]
    assert [g["member_count"] for g in listed()["items"]] == [4, 2, 1]
    first = listed("?limit=2")
    rest = listed(f"?limit=2&cursor={first['next_cursor']}")
    assert [g["group_id"] for g in first["items"] + rest["items"]] == [g["group_id"] for g in listed()["items"]]
    # a circle created before the directory existed is listed once the stream sees it change
    Group(small["group_id"]).update(actions=[Group.directory_key.remove()])
    Group(small["group_id"]).update(actions=[Group.description.set("now listed")])
    chaos_streams.drain()
    assert small["group_id"] in [g["group_id"] for g in listed()["items"]]
    # moderation removes the big circle: it leaves the directory and search; restore brings it back
    _set_removed(Group, big["group_id"], True)
    chaos_streams.drain()
    assert big["group_id"] not in [g["group_id"] for g in listed()["items"]]
    assert hit_ids(client, reader, "big", "circle") == []
    _set_removed(Group, big["group_id"], False)
    chaos_streams.drain()
    assert listed()["items"][0]["group_id"] == big["group_id"]
    assert hit_ids(client, reader, "big", "circle") == [big["group_id"]]
    bad = call(client, "GET", "/groups?label=", reader)
    assert bad.status_code == 400 and "label" in bad.data["Message"]


def test_suggestions_are_experts_and_rated_stores_of_my_labels_not_followed_not_blocked(client, users, streams):
    from tests.support.advice import answer, vote

    judges = [users(f"judge{i}", groups=("judges",)) for i in range(3)]
    gold = open_store(client, users, "gold", "Gold Lens", labels=("camera",))
    unrated = open_store(client, users, "plain", "Plain Lens", labels=("camera",))
    other_label = open_store(client, users, "frills", "Frills", labels=("lolita",))
    for store in (gold, other_label):
        for judge in judges:
            assert call(client, "PUT", f"/merchants/{store.user_id}/ratings/me", judge,
                        {"score": 88}).status_code == 200
    asker = named(client, users, "asker", "Asker")
    top, second, blocked = (named(client, users, name, name.title()) for name in ("top", "second", "blocked"))
    question = ask(client, asker)
    for expert, votes in ((top, 3), (second, 2), (blocked, 1)):
        answer_id = answer(client, expert, question["question_id"])["answer_id"]
        for n in range(votes):
            assert vote(client, named(client, users, f"fan{n}", f"Fan {n}"), answer_id, 1).status_code == 200
    streams.drain()
    me = named(client, users, "newbie", "Newbie", labels=("camera",))
    assert call(client, "PUT", f"/users/{blocked.user_id}/block", me).status_code in (200, 204)
    streams.drain()
    response = call(client, "GET", "/suggestions/follow", me)
    assert response.status_code == 200, response.data
    items = response.data["items"]
    assert [(i["user_id"], i["reason"]) for i in items] == [
        (top.user_id, "expert"), (gold.user_id, "store"), (second.user_id, "expert")]
    assert items[1]["tier"] == "gold" and items[1]["store"]["store_name"] == "Gold Lens"
    assert items[0]["user"]["display_name"] == "Top" and items[0]["label"] == "camera"
    assert unrated.user_id not in [i["user_id"] for i in items]
    # When I follow the top expert, they are no longer suggested
    assert call(client, "PUT", f"/users/{top.user_id}/follow", me).status_code == 200
    streams.drain()
    after = call(client, "GET", "/suggestions/follow", me).data["items"]
    assert [i["user_id"] for i in after] == [gold.user_id, second.user_id]
    # A caller without labels gets the rated stores of the whole directory
    plain = named(client, users, "plainuser", "Plain")
    assert {i["user_id"] for i in call(client, "GET", "/suggestions/follow", plain).data["items"]} == {
        gold.user_id, other_label.user_id}


def test_the_backfill_indexes_items_made_before_the_index_and_lists_old_circles(client, users, streams):
    from chalicelib.models.groups import Group
    from chalicelib.models.search import SearchEntry
    from infra.search_backfill import backfill

    # Given a store and a circle whose entries were never written (a stage older than search)
    store = open_store(client, users, "lens", "Lens Corner")
    circle = call(client, "POST", "/groups", store, {"name": "Old Circle", "description": "", "label": "camera"}).data
    streams.drain()
    from chalicelib.domain.search import entry_keys

    with SearchEntry.batch_write() as batch:
        for key in entry_keys("store", store.user_id, "Lens Corner"):
            batch.delete(SearchEntry(key, store.user_id))
        for key in entry_keys("circle", circle["group_id"], "Old Circle"):
            batch.delete(SearchEntry(key, circle["group_id"]))
    Group(circle["group_id"]).update(actions=[Group.directory_key.remove()])
    streams.drain()
    reader = users("reader")
    assert hit_ids(client, reader, "lens", "store") == [] and hit_ids(client, reader, "old", "circle") == []
    # When the operator runs the backfill (twice: it is safe to repeat)
    for _ in range(2):
        seen = backfill()
    streams.drain()
    # Then both are found again, and the circle is back in the directory
    assert seen["store"] >= 1 and seen["circle"] >= 1
    assert hit_ids(client, reader, "lens", "store") == [store.user_id]
    assert hit_ids(client, reader, "old", "circle") == [circle["group_id"]]
    assert circle["group_id"] in [g["group_id"] for g in call(client, "GET", "/groups", reader).data["items"]]
