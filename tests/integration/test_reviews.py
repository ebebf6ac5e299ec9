"""Reviews (one per user per product, not of your own) and helpful marks, counted through the stream."""

import pytest

from tests.support.advice import product, review
from tests.support.api import call


@pytest.fixture
def listed(client, users):
    """A merchant's product and a shopper."""
    shop, alice = users("shop", groups=("merchants",)), users("alice")
    return shop, alice, product(client, shop, labels=["camera", "digital"])["product_id"]


def test_a_shopper_reviews_a_product(client, users, listed):
    shop, alice, product_id = listed
    response = call(client, "POST", f"/products/{product_id}/reviews", alice, {"rating": 5, "body": "Lovely"})
    assert response.status_code == 201, response.data
    created = response.data
    assert (created["author_id"], created["rating"], created["helpful_count"]) == (alice.user_id, 5, 0)
    listed_reviews = call(client, "GET", f"/products/{product_id}/reviews", shop).data
    assert [r["review_id"] for r in listed_reviews["items"]] == [created["review_id"]]


def test_a_second_review_of_the_same_product_is_409(client, users, listed):
    shop, alice, product_id = listed
    review(client, alice, product_id)
    again = call(client, "POST", f"/products/{product_id}/reviews", alice, {"rating": 1, "body": "changed my mind"})
    assert again.status_code == 409
    assert len(call(client, "GET", f"/products/{product_id}/reviews", alice).data["items"]) == 1
    # Another product is another matter
    other = product(client, shop, title="other")["product_id"]
    review(client, alice, other)


def test_reviewing_your_own_product_is_403(client, users, listed):
    shop, alice, product_id = listed
    response = call(client, "POST", f"/products/{product_id}/reviews", shop, {"rating": 5, "body": "Best ever"})
    assert response.status_code == 403


def test_reviewing_an_unknown_product_is_404(client, users):
    response = call(client, "POST", "/products/nope/reviews", users(), {"rating": 5, "body": "?"})
    assert response.status_code == 404
    assert call(client, "GET", "/products/nope/reviews", users()).status_code == 404


def test_a_review_needs_a_rating_from_1_to_5_and_a_body(client, users, listed):
    shop, alice, product_id = listed
    for body in ({"rating": 0, "body": "x"}, {"rating": 6, "body": "x"}, {"rating": 4.5, "body": "x"},
                 {"rating": "5", "body": "x"}, {"rating": 5, "body": ""}, {"rating": 5},
                 {"rating": 5, "body": "x", "title": "t"}):
        response = call(client, "POST", f"/products/{product_id}/reviews", alice, body)
        assert response.status_code == 400, body
    review(client, alice, product_id)  # none of the refusals used up alice's one review


def test_reviews_are_listed_newest_first(client, users, listed):
    shop, alice, product_id = listed
    names = [review(client, users(f"r{i}"), product_id, body=f"review {i}")["body"] for i in range(3)]
    page1 = call(client, "GET", f"/products/{product_id}/reviews?limit=2", alice).data
    page2 = call(client, "GET", f"/products/{product_id}/reviews?limit=2&cursor={page1['next_cursor']}", alice).data
    assert [r["body"] for r in page1["items"] + page2["items"]] == list(reversed(names))


def test_helpful_marks_count_through_the_stream(client, users, streams, listed):
    # Given alice's review
    shop, alice, product_id = listed
    review_id = review(client, alice, product_id)["review_id"]
    bob, carol = users("bob"), users("carol")
    # When bob and carol mark it helpful (bob twice)
    for user in (bob, bob, carol):
        response = call(client, "PUT", f"/reviews/{review_id}/helpful", user, {"value": True})
        assert response.status_code == 200
        assert response.data == {"review_id": review_id, "helpful": True}
    streams.drain()
    # Then it counts two, and bob sees his own mark
    seen = call(client, "GET", f"/products/{product_id}/reviews", bob).data["items"][0]
    assert (seen["helpful_count"], seen["marked_helpful"]) == (2, True)
    # When bob takes his back (twice)
    for _ in range(2):
        response = call(client, "PUT", f"/reviews/{review_id}/helpful", bob, {"value": False})
        assert response.data == {"review_id": review_id, "helpful": False}
    streams.drain()
    seen = call(client, "GET", f"/products/{product_id}/reviews", bob).data["items"][0]
    assert (seen["helpful_count"], seen["marked_helpful"]) == (1, False)


def test_the_helpful_mark_carries_who_it_rewards(client, users, listed):
    from chalicelib.models.advice import HelpfulMark

    shop, alice, product_id = listed
    review_id = review(client, alice, product_id)["review_id"]
    bob = users("bob")
    call(client, "PUT", f"/reviews/{review_id}/helpful", bob, {"value": True})
    mark = HelpfulMark.get(review_id, bob.user_id)
    assert (mark.reviewer_id, mark.product_id, mark.labels) == (alice.user_id, product_id, ["camera", "digital"])


def test_marking_your_own_review_helpful_is_403(client, users, streams, listed):
    shop, alice, product_id = listed
    review_id = review(client, alice, product_id)["review_id"]
    assert call(client, "PUT", f"/reviews/{review_id}/helpful", alice, {"value": True}).status_code == 403
    streams.drain()
    assert call(client, "GET", f"/products/{product_id}/reviews", alice).data["items"][0]["helpful_count"] == 0


def test_helpful_refuses_unknown_reviews_and_bad_values(client, users, listed):
    shop, alice, product_id = listed
    review_id = review(client, alice, product_id)["review_id"]
    bob = users("bob")
    assert call(client, "PUT", "/reviews/nope/helpful", bob, {"value": True}).status_code == 404
    # The item that guards alice's one review shares the table, but is no review
    from chalicelib.domain.advice import review_guard_key
    from chalicelib.errors import NotFound
    from chalicelib.services.reviews import get_review

    with pytest.raises(NotFound):
        get_review(review_guard_key(product_id, alice.user_id))
    for body in ({"value": "true"}, {"value": 1}, {}, {"value": True, "x": 1}):
        assert call(client, "PUT", f"/reviews/{review_id}/helpful", bob, body).status_code == 400, body


def test_replayed_helpful_marks_leave_the_count_unchanged(client, users, chaos_streams, listed):
    shop, alice, product_id = listed
    review_id = review(client, alice, product_id)["review_id"]
    markers = [users(f"m{i}") for i in range(4)]
    for user in markers:
        call(client, "PUT", f"/reviews/{review_id}/helpful", user, {"value": True})
    call(client, "PUT", f"/reviews/{review_id}/helpful", markers[0], {"value": False})
    chaos_streams.drain()
    assert call(client, "GET", f"/products/{product_id}/reviews", alice).data["items"][0]["helpful_count"] == 3
