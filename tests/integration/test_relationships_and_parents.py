"""`relationship` on profiles, `GET /me/blocks`, and lists under unknown parents answering 404
instead of an empty page (issue #14)."""

from __future__ import annotations

import pytest

from bench import harness  # noqa: F401  (installs the DynamoDB call counter before any client exists)
from bench.harness import recording
from tests.support.api import call


def _profile(client, user, name: str):
    assert call(client, "PUT", "/me", user, {"display_name": name}).status_code == 200
    return user


def test_a_profile_says_how_the_caller_relates_to_its_user(client, users, streams):
    alice, bob = _profile(client, users("alice"), "Alice"), _profile(client, users("bob"), "Bob")
    assert call(client, "GET", f"/users/{bob.user_id}", alice).data["relationship"] == {
        "following": False, "followed_by": False, "blocking": False}
    # When alice follows bob
    call(client, "PUT", f"/users/{bob.user_id}/follow", alice)
    streams.drain()
    # Then each sees it from their side
    assert call(client, "GET", f"/users/{bob.user_id}", alice).data["relationship"] == {
        "following": True, "followed_by": False, "blocking": False}
    assert call(client, "GET", f"/users/{alice.user_id}", bob).data["relationship"] == {
        "following": False, "followed_by": True, "blocking": False}
    # When bob blocks alice (which ends the follow)
    call(client, "PUT", f"/users/{alice.user_id}/block", bob)
    streams.drain()
    assert call(client, "GET", f"/users/{alice.user_id}", bob).data["relationship"] == {
        "following": False, "followed_by": False, "blocking": True}
    # And one's own profile relates to nothing
    assert call(client, "GET", f"/users/{bob.user_id}", bob).data["relationship"] == {
        "following": False, "followed_by": False, "blocking": False}


def test_the_relationship_rides_in_the_profiles_batched_read(client, users):
    alice, bob = _profile(client, users("alice"), "Alice"), _profile(client, users("bob"), "Bob")
    with recording() as log:
        assert call(client, "GET", f"/users/{bob.user_id}", alice).status_code == 200
    # one BatchGetItem (profile, wallet, store, both follows, the block) and the expertise Query
    assert log.by_operation() == {"BatchGetItem": 1, "Query": 1}, log.by_operation()


def test_the_caller_lists_whom_they_block_with_cards(client, users, streams):
    me = _profile(client, users("me"), "Me")
    trolls = [_profile(client, users(f"troll{n}"), f"Troll {n}") for n in range(3)]
    assert call(client, "GET", "/me/blocks", me).data == {"items": [], "next_cursor": None}
    for troll in trolls:
        assert call(client, "PUT", f"/users/{troll.user_id}/block", me).status_code == 200
    # When I page through my blocks two at a time
    with recording() as log:
        first = call(client, "GET", "/me/blocks?limit=2", me).data
    assert log.by_operation() == {"Query": 1, "BatchGetItem": 1}, log.by_operation()
    second = call(client, "GET", f"/me/blocks?limit=2&cursor={first['next_cursor']}", me).data
    # Then I see each blocked user once, with their card
    listed = first["items"] + second["items"]
    assert sorted(item["user_id"] for item in listed) == sorted(t.user_id for t in trolls)
    assert {item["user"]["display_name"] for item in listed} == {"Troll 0", "Troll 1", "Troll 2"}
    assert all(item["since"] for item in listed)
    # And no one else's blocks show in mine
    assert call(client, "GET", "/me/blocks", trolls[0]).data["items"] == []


UNKNOWN = "01J0000000NOSUCHTHING00000"


@pytest.mark.parametrize("path", [
    f"/users/{UNKNOWN}/followers", f"/users/{UNKNOWN}/following", f"/users/{UNKNOWN}/posts",
    f"/users/{UNKNOWN}/wishlist", f"/merchants/{UNKNOWN}/products", f"/merchants/{UNKNOWN}/coupons",
    f"/products/{UNKNOWN}/reviews", f"/groups/{UNKNOWN}/posts", f"/questions/{UNKNOWN}/answers",
])
def test_a_list_under_an_unknown_parent_is_404(client, users, path):
    response = call(client, "GET", path, users())
    assert response.status_code == 404, (path, response.data)
    assert response.data["Code"] == "NotFoundError"


def test_an_unknown_leaderboard_label_is_400(client, users):
    assert call(client, "GET", "/leaderboards/no-such-label", users()).status_code == 400


def test_empty_lists_under_known_parents_are_empty_pages(client, users):
    shopper = _profile(client, users("shopper"), "Shopper")
    shop = _profile(client, users("shop", groups=("merchants",)), "Shop")
    assert call(client, "PUT", "/merchants/me", shop, {"store_name": "Shop", "description": "d",
                                                        "labels": ["camera"]}).status_code == 200
    for path in (f"/users/{shopper.user_id}/followers", f"/users/{shopper.user_id}/following",
                 f"/users/{shopper.user_id}/wishlist", f"/users/{shopper.user_id}/posts",
                 f"/merchants/{shop.user_id}/products", f"/merchants/{shop.user_id}/coupons"):
        response = call(client, "GET", path, shopper)
        assert (response.status_code, response.data["items"]) == (200, []), (path, response.data)


def test_a_list_with_items_reads_no_parent(client, users, streams):
    star, fan = _profile(client, users("star"), "Star"), _profile(client, users("fan"), "Fan")
    call(client, "PUT", f"/users/{star.user_id}/follow", fan)
    streams.drain()
    with recording() as log:
        assert len(call(client, "GET", f"/users/{star.user_id}/followers", fan).data["items"]) == 1
    # one Query per followers shard (in parallel: SPEC "a sharded list may read up to 4 shards a page")
    from chalicelib.models.graph import FOLLOWER_SHARDS

    assert log.by_operation() == {"Query": FOLLOWER_SHARDS, "BatchGetItem": 1}, log.by_operation()
