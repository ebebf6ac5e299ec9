"""Profiles, follows and blocks through the routes, with the real stream path for counters."""

from tests.support.api import call


def test_health_and_openapi_are_public(client):
    assert call(client, "GET", "/health").data == {"status": "ok"}
    document = call(client, "GET", "/openapi.json").data
    assert document["openapi"].startswith("3.")
    assert "/users/{user_id}/follow" in document["paths"]


def test_me_is_created_on_first_use_and_updated(client, users):
    # Given a new shopper
    alice = users("alice")
    # When she reads her profile for the first time
    me = call(client, "GET", "/me", alice)
    # Then it exists with zero counters
    assert me.status_code == 200
    assert me.data["user_id"] == alice.user_id
    assert me.data["follower_count"] == 0
    # When she updates it
    updated = call(client, "PUT", "/me", alice, {"display_name": "Alice", "bio": "cameras", "labels": ["camera"]})
    assert updated.status_code == 200, updated.data
    assert updated.data["display_name"] == "Alice"
    assert call(client, "GET", f"/users/{alice.user_id}", alice).data["labels"] == ["camera"]


def test_put_me_rejects_bad_input_naming_the_field(client, users):
    alice = users()
    cases = [
        ({"display_name": "A", "extra": 1}, "extra"),
        ({"display_name": 5}, "display_name"),
        ({"display_name": "A", "labels": ["not-a-label"]}, "labels"),
        ({"display_name": "A", "labels": ["camera", "phone", "digital", "cooking", "seafood", "makeup"]}, "labels"),
        ({"display_name": "x" * 51}, "display_name"),
        ({}, "display_name"),
    ]
    for body, field in cases:
        response = call(client, "PUT", "/me", alice, body)
        assert response.status_code == 400, body
        assert response.data["Code"] == "BadRequestError"
        assert field in response.data["Message"]
    response = call(client, "PUT", "/me", alice, raw=b"{not json")
    assert response.status_code == 400
    response = call(client, "PUT", "/me", alice, raw=b"[1, 2]")
    assert response.status_code == 400


def test_follow_counts_and_notification_through_the_stream(client, users, streams):
    alice, bob = users("alice"), users("bob")
    call(client, "GET", "/me", alice)
    call(client, "GET", "/me", bob)
    # When alice follows bob, twice (idempotent)
    assert call(client, "PUT", f"/users/{bob.user_id}/follow", alice).status_code == 200
    assert call(client, "PUT", f"/users/{bob.user_id}/follow", alice).status_code == 200
    streams.drain()
    # Then the counters moved once and bob was told
    assert call(client, "GET", f"/users/{bob.user_id}", alice).data["follower_count"] == 1
    assert call(client, "GET", f"/users/{alice.user_id}", alice).data["following_count"] == 1
    notes = call(client, "GET", "/me/notifications", bob).data
    assert [n["type"] for n in notes["items"]] == ["new_follower"]
    assert notes["items"][0]["data"]["follower_id"] == alice.user_id
    followers = call(client, "GET", f"/users/{bob.user_id}/followers", alice).data
    assert [f["user_id"] for f in followers["items"]] == [alice.user_id]
    following = call(client, "GET", f"/users/{alice.user_id}/following", alice).data
    assert [f["user_id"] for f in following["items"]] == [bob.user_id]
    # When alice unfollows
    assert call(client, "DELETE", f"/users/{bob.user_id}/follow", alice).status_code == 200
    streams.drain()
    assert call(client, "GET", f"/users/{bob.user_id}", alice).data["follower_count"] == 0


def test_follow_refusals(client, users):
    alice, bob = users(), users()
    call(client, "GET", "/me", alice)
    assert call(client, "PUT", f"/users/{alice.user_id}/follow", alice).status_code == 400
    assert call(client, "PUT", f"/users/{bob.user_id}/follow", alice).status_code == 404  # no profile yet
    assert call(client, "PUT", "/users/nobody/follow", alice).status_code == 404


def test_block_ends_follows_both_ways_and_stops_new_ones(client, users, streams):
    alice, bob = users(), users()
    call(client, "GET", "/me", alice)
    call(client, "GET", "/me", bob)
    call(client, "PUT", f"/users/{bob.user_id}/follow", alice)
    call(client, "PUT", f"/users/{alice.user_id}/follow", bob)
    streams.drain()
    assert call(client, "PUT", f"/users/{bob.user_id}/block", alice).status_code == 200
    streams.drain()
    assert call(client, "GET", f"/users/{alice.user_id}", alice).data["follower_count"] == 0
    assert call(client, "GET", f"/users/{alice.user_id}", alice).data["following_count"] == 0
    assert call(client, "PUT", f"/users/{alice.user_id}/follow", bob).status_code == 403
    assert call(client, "PUT", f"/users/{bob.user_id}/follow", alice).status_code == 409
    assert call(client, "DELETE", f"/users/{bob.user_id}/block", alice).status_code == 200
    assert call(client, "PUT", f"/users/{alice.user_id}/follow", bob).status_code == 200


def test_counts_survive_chaotic_redelivery(client, users, chaos_streams):
    alice, bob, carol = users(), users(), users()
    for user in (alice, bob, carol):
        call(client, "GET", "/me", user)
    call(client, "PUT", f"/users/{carol.user_id}/follow", alice)
    call(client, "PUT", f"/users/{carol.user_id}/follow", bob)
    call(client, "DELETE", f"/users/{carol.user_id}/follow", alice)
    chaos_streams.drain()
    assert call(client, "GET", f"/users/{carol.user_id}", bob).data["follower_count"] == 1
    notes = call(client, "GET", "/me/notifications", carol).data["items"]
    # two followers told once each (followers of one second share a notice with data.count)
    assert sum(n["data"].get("count", 1) for n in notes) == 2


def test_lists_paginate_with_tamper_evident_cursors(client, users, streams):
    star = users()
    call(client, "GET", "/me", star)
    fans = [users() for _ in range(5)]
    for fan in fans:
        call(client, "PUT", f"/users/{star.user_id}/follow", fan)
    seen, cursor = [], None
    while True:
        path = f"/users/{star.user_id}/followers?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = call(client, "GET", path, star).data
        seen += [item["user_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
        tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
        assert call(client, "GET", f"/users/{star.user_id}/followers?cursor={tampered}", star).status_code == 400
    assert sorted(seen) == sorted(f.user_id for f in fans)
    assert call(client, "GET", f"/users/{star.user_id}/followers?limit=0", star).status_code == 400
    assert call(client, "GET", f"/users/{star.user_id}/followers?limit=101", star).status_code == 400


def test_openapi_document_is_valid_and_covers_every_route(client):
    from openapi_spec_validator import validate

    from app import app

    document = call(client, "GET", "/openapi.json").data
    validate(document)
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    served = {(method, path) for path, methods in app.routes.items() for method in methods if method != "OPTIONS"}
    assert documented == served
    # every path also answers a CORS preflight, which is not an operation of the API
    assert all("OPTIONS" in methods for methods in app.routes.values())


def test_a_cursor_handed_to_another_user_is_refused(client, users):
    star, fan, stranger = users(), users(), users()
    call(client, "GET", "/me", star)
    for _ in range(3):
        extra = users()
        call(client, "PUT", f"/users/{star.user_id}/follow", extra)
    page = call(client, "GET", f"/users/{star.user_id}/followers?limit=1", fan).data
    assert page["next_cursor"]
    path = f"/users/{star.user_id}/followers?limit=1&cursor={page['next_cursor']}"
    assert call(client, "GET", path, fan).status_code == 200
    assert call(client, "GET", path, stranger).status_code == 400


def test_batch_get_reads_more_than_a_hundred_keys_in_order(tables):
    from chalicelib.models.base import batch_get
    from chalicelib.models.users import UserProfile

    with UserProfile.batch_write() as batch:
        for i in range(0, 150, 2):
            batch.save(UserProfile(f"user-{i:03d}", display_name=f"U{i}"))
    keys = [(UserProfile, f"user-{i:03d}", None) for i in range(150)] + [(UserProfile, "user-000", None)]
    found = batch_get(keys)
    assert [p.display_name if p else None for p in found[:4]] == ["U0", None, "U2", None]
    assert len(found) == 151 and found[-1].display_name == "U0"
    assert sum(1 for p in found if p) == 76


def test_followers_page_newest_first_over_the_followers_shards_each_once(client, users):
    from chalicelib.models.graph import followers_keys

    # Given seven fans of one account, whose follows spread over its followers shards
    star = users("star")
    assert call(client, "GET", "/me", star).status_code == 200
    fans = [users(f"fan{n}") for n in range(7)]
    for fan in fans:
        assert call(client, "PUT", f"/users/{star.user_id}/follow", fan).status_code == 200
    from chalicelib.models.graph import Follow

    shards = {Follow.get(fan.user_id, star.user_id).followee_shard for fan in fans}
    assert shards <= set(followers_keys(star.user_id)) and len(shards) > 1
    # When a reader pages through the followers two at a time
    seen, cursor = [], None
    while True:
        page = call(client, "GET", f"/users/{star.user_id}/followers?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                    star).data
        assert len(page["items"]) <= 2
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    # Then every fan is listed once, newest follow first
    assert sorted(item["user_id"] for item in seen) == sorted(fan.user_id for fan in fans)
    since = [item["since"] for item in seen]
    assert since == sorted(since, reverse=True)
    # And a cursor of the star's followers is a 400 on another account's followers
    first = call(client, "GET", f"/users/{star.user_id}/followers?limit=2", star).data["next_cursor"]
    assert call(client, "GET", f"/users/{fans[0].user_id}/followers?cursor={first}", star).status_code == 400
