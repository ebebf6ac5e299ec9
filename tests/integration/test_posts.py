"""Posts through the routes: create, read, delete, an author's list, and every refusal."""

import pytest

from chalicelib.domain.ids import now_iso
from tests.support.api import call
from tests.support.posts import publish, read_all, with_profiles


def given_product(product_id: str = "prod-1") -> str:
    from chalicelib.models.advice import Product

    Product(product_id, merchant_id="merchant-1", title="Lens", price_cents=1000, created_at=now_iso()).save()
    return product_id


def test_a_post_is_created_with_its_author_and_read_back(client, users):
    # Given a shopper with a profile and a product on sale
    alice = users("alice")
    call(client, "PUT", "/me", alice, {"display_name": "Alice"})
    product_id = given_product()
    # When she posts with images, a product and labels
    body = {"text": "my new lens", "image_urls": ["https://img.example/1.jpg"], "product_ids": [product_id],
            "labels": ["camera", "digital"]}
    created = call(client, "POST", "/posts", alice, body)
    # Then she gets the post back, with author and time
    assert created.status_code == 201, created.data
    post = created.data
    assert post["author"] == {"user_id": alice.user_id, "display_name": "Alice", "merchant": None,
                              "avatar_url": None, "expert": []}
    assert post["text"] == "my new lens" and post["image_urls"] == body["image_urls"]
    assert post["product_ids"] == [product_id] and post["labels"] == ["camera", "digital"]
    assert post["group_id"] is None and post["poll"] is None
    assert post["created_at"].endswith("Z")
    # And anyone can read it
    bob = users("bob")
    assert call(client, "GET", f"/posts/{post['post_id']}", bob).data == post


def test_unknown_post_is_404(client, users):
    alice = users()
    assert call(client, "GET", "/posts/01HNOSUCHPOST0000000000000", alice).status_code == 404
    assert call(client, "DELETE", "/posts/01HNOSUCHPOST0000000000000", alice).status_code == 404


def test_a_post_needs_a_token(client):
    assert call(client, "POST", "/posts", None, {"text": "hi"}).status_code == 401
    assert call(client, "GET", "/feed").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"text": 5}, "text"),
        ({"text": "hi", "image_urls": [f"https://img.example/{i}.jpg" for i in range(10)]}, "image_urls"),
        ({"text": "hi", "image_urls": ["http://img.example/1.jpg"]}, "image_urls"),
        ({"text": "hi", "labels": ["not-a-label"]}, "labels"),
        ({"text": "hi", "labels": ["camera", "phone", "digital", "cooking", "seafood", "makeup"]}, "labels"),
        ({"text": "hi", "product_ids": ["p1", "p1"]}, "product_ids"),
        ({"text": "hi", "product_ids": [f"p{i}" for i in range(21)]}, "product_ids"),
        ({"text": "hi", "product_ids": ["no-such-product"]}, "product_ids"),
        ({"text": "hi", "group_id": ""}, "group_id"),
        ({"text": "hi", "mood": "happy"}, "mood"),
        ({"text": "hi", "poll": {"options": [{"text": "only one"}]}}, "poll.options"),
        ({"text": "hi", "poll": {"options": [{"text": str(i)} for i in range(5)]}}, "poll.options"),
        ({"text": "hi", "poll": {"options": [{"text": "a"}, {"text": ""}]}}, "poll.options.1.text"),
        ({"text": "hi", "poll": {"options": [{"text": "a"}, {"text": "b"}], "closes_in_hours": 0}},
         "poll.closes_in_hours"),
        ({"text": "hi", "poll": {"options": [{"text": "a"}, {"text": "b"}], "closes_in_hours": 169}},
         "poll.closes_in_hours"),
        ({"text": "hi", "poll": {"options": [{"text": "a"}, {"text": "b"}], "closes_in_hours": "24"}},
         "poll.closes_in_hours"),
        ({"text": "hi", "poll": {"options": [{"text": "a", "product_id": "nope"}, {"text": "b"}]}},
         "poll.options.0.product_id"),
        ({"text": "hi", "poll": {"options": [{"text": "a", "colour": "red"}, {"text": "b"}]}}, "poll.options.0"),
    ],
)
def test_every_limit_is_a_400_naming_the_field(client, users, body, field):
    alice = users()
    response = call(client, "POST", "/posts", alice, body)
    assert response.status_code == 400, response.data
    assert response.data["Code"] == "BadRequestError"
    assert field in response.data["Message"]


def test_a_body_that_is_not_a_json_object_is_a_400(client, users):
    alice = users()
    assert call(client, "POST", "/posts", alice, raw=b"{oops").status_code == 400
    assert call(client, "POST", "/posts", alice, raw=b'["text"]').status_code == 400


def test_limits_at_their_edges_are_accepted(client, users):
    alice = users()
    body = {"text": "x" * 2000, "image_urls": [f"https://img.example/{i}.jpg" for i in range(9)],
            "labels": ["camera", "phone", "digital", "cooking", "seafood"],
            "poll": {"options": [{"text": str(i)} for i in range(4)], "closes_in_hours": 168}}
    assert call(client, "POST", "/posts", alice, body).status_code == 201


def test_only_the_author_deletes_a_post(client, users):
    alice, bob = users("alice"), users("bob")
    post_id = publish(client, alice)
    # When bob tries, he is refused and the post stays
    refused = call(client, "DELETE", f"/posts/{post_id}", bob)
    assert refused.status_code == 403 and refused.data["Code"] == "ForbiddenError"
    assert call(client, "GET", f"/posts/{post_id}", bob).status_code == 200
    # When alice deletes it, it is gone
    deleted = call(client, "DELETE", f"/posts/{post_id}", alice)
    assert deleted.status_code == 204
    assert call(client, "GET", f"/posts/{post_id}", bob).status_code == 404
    assert call(client, "DELETE", f"/posts/{post_id}", alice).status_code == 404


def test_a_users_posts_are_listed_newest_first_without_circle_posts(client, users):
    # Given alice's home posts and one circle post
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice)
    home = [publish(client, alice, f"home {i}") for i in range(5)]
    group_id = call(client, "POST", "/groups", alice, {"name": "Cams", "description": "d", "label": "camera"}).data[
        "group_id"]
    publish(client, alice, "in my circle", group_id=group_id)
    # When bob pages through her posts two at a time
    ids, pages = read_all(client, bob, f"/users/{alice.user_id}/posts", limit=2)
    # Then he sees her home posts only, newest first, each once
    assert ids == list(reversed(home))
    assert pages == 3


def test_the_posts_of_an_unknown_user_are_404(client, users):
    alice = users()
    assert call(client, "GET", "/users/nobody/posts", alice).status_code == 404
    with_profiles(client, alice)
    assert call(client, "GET", f"/users/{alice.user_id}/posts", alice).data == {"items": [], "next_cursor": None}


def test_post_routes_are_in_the_openapi_document(client):
    paths = call(client, "GET", "/openapi.json").data["paths"]
    for path in ("/posts", "/posts/{post_id}", "/posts/{post_id}/poll/votes", "/users/{user_id}/posts", "/feed",
                 "/groups", "/groups/{group_id}", "/groups/{group_id}/members/me", "/groups/{group_id}/posts"):
        assert path in paths, path
