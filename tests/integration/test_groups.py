"""Circles: create, list by label, membership and its count, and who may post."""

import pytest

from tests.support.api import call
from tests.support.posts import follow, publish, read_all, with_profiles

CAMERA_CIRCLE = {"name": "Film cameras", "description": "Grain and light", "label": "camera"}


def create(client, owner, **overrides) -> dict:
    response = call(client, "POST", "/groups", owner, {**CAMERA_CIRCLE, **overrides})
    assert response.status_code == 201, response.data
    return response.data


def test_the_creator_owns_a_new_circle_and_is_its_first_member(client, users, streams):
    alice = users("alice")
    group = create(client, alice)
    assert group["owner_id"] == alice.user_id and group["member_count"] == 1
    assert group["is_member"] is True and group["role"] == "owner"
    streams.drain()
    assert call(client, "GET", f"/groups/{group['group_id']}", alice).data["member_count"] == 1


def test_joining_and_leaving_move_the_member_count_once(client, users, streams):
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    group_id = create(client, alice)["group_id"]
    # When bob joins twice and carol joins, then carol leaves twice
    for joiner in (bob, bob, carol):
        response = call(client, "PUT", f"/groups/{group_id}/members/me", joiner)
        assert response.status_code == 200
        assert response.data == {"group_id": group_id, "member": True, "role": "member"}
    streams.drain()
    assert call(client, "GET", f"/groups/{group_id}", bob).data["member_count"] == 3
    for _ in range(2):
        left = call(client, "DELETE", f"/groups/{group_id}/members/me", carol)
        assert left.status_code == 200 and left.data["member"] is False
    streams.drain()
    # Then the count is exact, and each sees whether they belong
    assert call(client, "GET", f"/groups/{group_id}", bob).data["member_count"] == 2
    assert call(client, "GET", f"/groups/{group_id}", bob).data["is_member"] is True
    assert call(client, "GET", f"/groups/{group_id}", carol).data["is_member"] is False


def test_member_count_survives_chaotic_redelivery(client, users, chaos_streams):
    alice = users("alice")
    members = [users() for _ in range(4)]
    group_id = create(client, alice)["group_id"]
    for member in members:
        call(client, "PUT", f"/groups/{group_id}/members/me", member)
    call(client, "DELETE", f"/groups/{group_id}/members/me", members[0])
    chaos_streams.drain()
    assert call(client, "GET", f"/groups/{group_id}", alice).data["member_count"] == 4


def test_the_owner_cannot_leave(client, users):
    alice = users("alice")
    group_id = create(client, alice)["group_id"]
    response = call(client, "DELETE", f"/groups/{group_id}/members/me", alice)
    assert response.status_code == 409
    assert call(client, "GET", f"/groups/{group_id}", alice).data["is_member"] is True


def test_unknown_circle_is_404(client, users):
    alice = users()
    for method, path in (("GET", "/groups/nope"), ("PUT", "/groups/nope/members/me"),
                         ("DELETE", "/groups/nope/members/me"), ("GET", "/groups/nope/posts")):
        assert call(client, method, path, alice).status_code == 404, path
    response = call(client, "POST", "/posts", alice, {"text": "hi", "group_id": "nope"})
    assert response.status_code == 404


def test_circles_are_listed_by_label_newest_first(client, users):
    alice, bob = users("alice"), users("bob")
    cameras = [create(client, alice, name=f"Cameras {i}")["group_id"] for i in range(3)]
    create(client, alice, name="Cooks", label="cooking")
    call(client, "PUT", f"/groups/{cameras[0]}/members/me", bob)
    page = call(client, "GET", "/groups?label=camera&limit=2", bob).data
    assert [g["group_id"] for g in page["items"]] == [cameras[2], cameras[1]]
    ids, _ = read_all_groups(client, bob, "camera")
    assert ids == list(reversed(cameras))
    listed = call(client, "GET", "/groups?label=camera", bob).data["items"]
    assert [g["is_member"] for g in listed] == [False, False, True]
    mine = call(client, "GET", "/me/groups", bob).data["items"]
    assert [g["group_id"] for g in mine] == [cameras[0]]


def read_all_groups(client, user, label):
    ids, cursor, pages = [], None, 0
    while True:
        response = call(client, "GET", f"/groups?label={label}&limit=1" + (f"&cursor={cursor}" if cursor else ""),
                        user)
        pages += 1
        ids += [g["group_id"] for g in response.data["items"]]
        cursor = response.data["next_cursor"]
        if not cursor:
            return ids, pages


def test_listing_needs_a_known_label(client, users):
    alice = users()
    for path in ("/groups?label=", "/groups?label=knitting"):
        response = call(client, "GET", path, alice)
        assert response.status_code == 400, path
        assert "label" in response.data["Message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": "d", "label": "camera"}, "name"),
        ({**CAMERA_CIRCLE, "name": ""}, "name"),
        ({**CAMERA_CIRCLE, "name": "  "}, "name"),
        ({**CAMERA_CIRCLE, "name": "x" * 101}, "name"),
        ({**CAMERA_CIRCLE, "description": "x" * 2001}, "description"),
        ({"name": "n", "label": "camera"}, "description"),
        ({**CAMERA_CIRCLE, "label": "knitting"}, "label"),
        ({**CAMERA_CIRCLE, "label": ["camera"]}, "label"),
        ({**CAMERA_CIRCLE, "private": True}, "private"),
    ],
)
def test_bad_circles_are_400_naming_the_field(client, users, body, field):
    response = call(client, "POST", "/groups", users(), body)
    assert response.status_code == 400, response.data
    assert field in response.data["Message"]


def test_only_members_post_in_a_circle(client, users):
    alice, bob = users("alice"), users("bob")
    group_id = create(client, alice)["group_id"]
    # When bob, not a member, posts in it, he is refused
    refused = call(client, "POST", "/posts", bob, {"text": "hi all", "group_id": group_id})
    assert refused.status_code == 403
    # When he joins, he may
    call(client, "PUT", f"/groups/{group_id}/members/me", bob)
    allowed = call(client, "POST", "/posts", bob, {"text": "hi all", "group_id": group_id})
    assert allowed.status_code == 201 and allowed.data["group_id"] == group_id
    # And after leaving, he may not again
    call(client, "DELETE", f"/groups/{group_id}/members/me", bob)
    assert call(client, "POST", "/posts", bob, {"text": "bye", "group_id": group_id}).status_code == 403


def test_a_circles_posts_are_listed_newest_first_and_stay_out_of_home_feeds(client, users, streams):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    follow(client, bob, alice)
    group_id = create(client, alice)["group_id"]
    in_circle = [publish(client, alice, f"circle {i}", group_id=group_id) for i in range(3)]
    streams.drain()
    ids, pages = read_all(client, bob, f"/groups/{group_id}/posts", limit=2)
    assert ids == list(reversed(in_circle)) and pages == 2
    assert read_all(client, bob)[0] == []
    assert read_all(client, bob, f"/users/{alice.user_id}/posts")[0] == []
