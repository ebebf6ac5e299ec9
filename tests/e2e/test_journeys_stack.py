"""What users do next (issue #15), walked end to end on the real local stack: HTTP API, moto server,
S3 with the presigned form's policy enforced, and the stream runner delivering every record.

Counts, tallies and points trail the writes by the stream's delay, so they are read with
`eventually`; nothing here waits on a clock otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json() if response.content else {}


def _named(stack, name: str, groups: tuple[str, ...] = ()):
    user = stack.sign_up(name, groups=groups)
    _ok(stack.call("PUT", "/me", user, {"display_name": name.title()}))
    return user


def _post(stack, user, path: str) -> dict:
    return _ok(stack.call("GET", path, user))


def _balance(stack, user) -> int:
    return _post(stack, user, "/me/points")["balance"]


def _ledger_sum(stack, user) -> int:
    return sum(entry["amount"] for entry in _post(stack, user, "/me/points/ledger?limit=100")["items"])


def _settles(stack, probe, expected, timeout: float = 10.0):
    """Wait until `probe()` equals `expected`; fail with the last value seen."""
    seen = []

    def matches():
        seen.append(probe())
        return seen[-1] == expected

    try:
        stack.eventually(matches, timeout=timeout)
    except AssertionError:
        raise AssertionError(f"expected {expected!r}, last saw {seen[-1]!r}") from None


def test_a_shopper_uploads_a_photo_and_posts_it_and_a_follower_sees_it(stack):
    # Given alice, and bob who follows her
    alice, bob = _named(stack, "alice"), _named(stack, "bob")
    _ok(stack.call("PUT", f"/users/{alice.user_id}/follow", bob))
    # When alice asks for an upload form and her browser posts the photo's bytes to it
    upload = _ok(stack.call("POST", "/uploads", alice,
                            {"purpose": "post", "content_type": "image/png", "size_bytes": len(PNG)}), 201)
    stored = requests.post(upload["url"], data=upload["fields"], files={"file": ("bag.png", PNG, "image/png")},
                           timeout=30)
    assert stored.status_code in (201, 204), stored.text
    # And she posts with the image
    post = _ok(stack.call("POST", "/posts", alice, {"text": "my new bag", "image_urls": [upload["image_url"]]}), 201)
    # Then the post reaches bob's feed with the image, and the image URL serves her very bytes
    def bobs_feed():
        items = _post(stack, bob, "/feed")["items"]
        return items if any(item["post_id"] == post["post_id"] for item in items) else None

    item = next(i for i in stack.eventually(bobs_feed, timeout=5.0) if i["post_id"] == post["post_id"])
    assert item["image_urls"] == [upload["image_url"]]
    served = requests.get(item["image_urls"][0], timeout=30)
    assert (served.status_code, served.content, served.headers["Content-Type"]) == (200, PNG, "image/png")


def test_a_follower_likes_and_comments_and_the_author_is_told(stack):
    # Given alice's post
    alice, bob = _named(stack, "alice"), _named(stack, "bob")
    post_id = _ok(stack.call("POST", "/posts", alice, {"text": "first shots with the new lens"}), 201)["post_id"]
    # When bob likes it (twice: idempotent) and comments
    assert _ok(stack.call("PUT", f"/posts/{post_id}/like", bob))["liked"] is True
    assert _ok(stack.call("PUT", f"/posts/{post_id}/like", bob))["liked"] is True
    comment = _ok(stack.call("POST", f"/posts/{post_id}/comments", bob, {"text": "Lovely colours!"}), 201)
    # Then the post counts one like and one comment once the streams have summed them, and bob's like shows
    _settles(stack, lambda: {key: _post(stack, bob, f"/posts/{post_id}")[key]
                             for key in ("like_count", "comment_count", "liked_by_me")},
             {"like_count": 1, "comment_count": 1, "liked_by_me": True})
    # And the comment is listed with bob's card
    comments = _post(stack, alice, f"/posts/{post_id}/comments")["items"]
    assert [(c["comment_id"], c["text"], c["author"]["display_name"]) for c in comments] == [
        (comment["comment_id"], "Lovely colours!", "Bob")]
    # And alice gets a new_comment notice naming the comment
    def notice():
        items = _post(stack, alice, "/me/notifications")["items"]
        return next((n for n in items if n["type"] == "new_comment"), None)

    found = stack.eventually(notice, timeout=5.0)
    assert found["data"]["post_id"] == post_id
    assert found["data"]["comment_id"] == comment["comment_id"]
    assert found["data"]["author_id"] == bob.user_id
    # And when bob takes the like back, the count returns to 0
    assert _ok(stack.call("DELETE", f"/posts/{post_id}/like", bob))["liked"] is False
    _settles(stack, lambda: _post(stack, bob, f"/posts/{post_id}")["like_count"], 0)


def test_an_author_edits_a_post_and_readers_see_the_edit(stack):
    alice, bob = _named(stack, "alice"), _named(stack, "bob")
    _ok(stack.call("PUT", f"/users/{alice.user_id}/follow", bob))
    post_id = _ok(stack.call("POST", "/posts", alice, {"text": "50 mm f/1.8, 90 euros", "labels": ["camera"]}),
                  201)["post_id"]
    stack.eventually(lambda: any(i["post_id"] == post_id for i in _post(stack, bob, "/feed")["items"]), timeout=5.0)
    # When alice fixes the price
    edited = _ok(stack.call("PATCH", f"/posts/{post_id}", alice, {"text": "50 mm f/1.8, 80 euros"}))
    assert edited["text"] == "50 mm f/1.8, 80 euros" and edited["edited_at"]
    # Then the post and bob's feed show the new text, marked edited; its labels are unchanged
    shown = _post(stack, bob, f"/posts/{post_id}")
    assert (shown["text"], shown["labels"], shown["edited_at"]) == ("50 mm f/1.8, 80 euros", ["camera"],
                                                                      edited["edited_at"])
    in_feed = next(i for i in _post(stack, bob, "/feed")["items"] if i["post_id"] == post_id)
    assert in_feed["text"] == "50 mm f/1.8, 80 euros"
    # And nobody else may edit it
    assert stack.call("PATCH", f"/posts/{post_id}", bob, {"text": "free"}).status_code == 403


def test_voters_change_and_withdraw_their_poll_votes_and_the_tally_converges(stack):
    # Given a poll and four voters: two for red, two for blue
    author = _named(stack, "author")
    poll = {"options": [{"text": "red"}, {"text": "blue"}, {"text": "black"}]}
    post_id = _ok(stack.call("POST", "/posts", author, {"text": "Which colour?", "poll": poll}), 201)["post_id"]
    voters = [_named(stack, f"voter{i}") for i in range(4)]
    for voter, option in zip(voters, (0, 0, 1, 1), strict=True):
        _ok(stack.call("POST", f"/posts/{post_id}/poll/votes", voter, {"option": option}))

    def counts():
        return [option["votes"] for option in _post(stack, author, f"/posts/{post_id}")["poll"]["options"]]

    _settles(stack, counts, [2, 2, 0])
    # When one red voter changes to black, one blue voter withdraws and changes their mind twice more
    me = f"/posts/{post_id}/poll/votes/me"
    assert _ok(stack.call("PUT", me, voters[0], {"option": 2}))["poll"]["my_vote"] == 2
    _ok(stack.call("DELETE", me, voters[2]), 204)
    _ok(stack.call("PUT", me, voters[2], {"option": 0}))
    _ok(stack.call("PUT", me, voters[2], {"option": 2}))
    # Then the tally counts each voter once, in their last choice
    _settles(stack, counts, [1, 1, 2])
    assert _post(stack, voters[2], f"/posts/{post_id}")["poll"]["my_vote"] == 2


def test_an_asker_withdraws_an_acceptance_and_its_points_are_reversed_exactly(stack):
    # Given an answered question
    asker, answerer = _named(stack, "asker"), _named(stack, "answerer")
    question = _ok(stack.call("POST", "/questions", asker,
                              {"title": "Which tripod?", "body": "Light, for travel", "labels": ["camera"]}), 201)
    qid = question["question_id"]
    answer_id = _ok(stack.call("POST", f"/questions/{qid}/answers", answerer, {"body": "The carbon one"}),
                    201)["answer_id"]
    # When the asker accepts it: +15 to the answerer, +2 to the asker (SPEC "Points")
    _ok(stack.call("POST", f"/questions/{qid}/accept", asker, {"answer_id": answer_id}))
    _settles(stack, lambda: (_balance(stack, answerer), _balance(stack, asker)), (15, 2))
    # And then withdraws the acceptance
    _ok(stack.call("DELETE", f"/questions/{qid}/accept", asker))
    # Then both balances return to exactly 0, the ledgers holding the award and its reversal
    _settles(stack, lambda: (_balance(stack, answerer), _balance(stack, asker)), (0, 0))
    assert (_ledger_sum(stack, answerer), _ledger_sum(stack, asker)) == (0, 0)
    assert _post(stack, asker, f"/questions/{qid}")["accepted_answer_id"] is None
    # And accepting again pays once more, not twice
    _ok(stack.call("POST", f"/questions/{qid}/accept", asker, {"answer_id": answer_id}))
    _settles(stack, lambda: (_balance(stack, answerer), _balance(stack, asker)), (15, 2))


def test_a_reviewer_deletes_a_review_and_its_helpful_points_are_reversed(stack):
    # Given a store's product, a review of it, and two shoppers who found the review helpful
    store = _named(stack, "store", groups=("merchants",))
    _ok(stack.call("PUT", "/merchants/me", store, {"store_name": "Lens Corner"}))
    product_id = _ok(stack.call("POST", "/products", store, {"title": "50 mm lens", "price_cents": 9_000,
                                                             "labels": ["camera"]}), 201)["product_id"]
    reviewer = _named(stack, "reviewer")
    review_id = _ok(stack.call("POST", f"/products/{product_id}/reviews", reviewer,
                               {"rating": 5, "body": "Sharp wide open"}), 201)["review_id"]
    for name in ("reader1", "reader2"):
        _ok(stack.call("PUT", f"/reviews/{review_id}/helpful", _named(stack, name), {"value": True}))
    _settles(stack, lambda: _balance(stack, reviewer), 10)  # +5 per helpful mark
    # When the reviewer deletes the review
    assert stack.call("DELETE", f"/reviews/{review_id}", reviewer).status_code == 204
    # Then the helpful points it earned are reversed exactly, and the review is gone from the product
    _settles(stack, lambda: _balance(stack, reviewer), 0)
    assert _ledger_sum(stack, reviewer) == 0
    reviews = _post(stack, reviewer, f"/products/{product_id}/reviews")["items"]
    assert review_id not in [r["review_id"] for r in reviews]


def test_a_merchant_ends_a_campaign_and_looks_up_a_code(stack):
    # Given a store's campaign, and a shopper who holds one of its coupons
    store = _named(stack, "store", groups=("merchants",))
    _ok(stack.call("PUT", "/merchants/me", store, {"store_name": "Double Eleven Deals"}))
    expires = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    campaign = _ok(stack.call("POST", "/merchants/me/coupons", store,
                              {"title": "11.11 early bird", "discount_cents": 1100, "min_spend_cents": 5000,
                               "points_cost": 0, "total_quantity": 50, "per_user_limit": 1,
                               "expires_at": expires}), 201)
    campaign_id = campaign["campaign_id"]
    shopper = _named(stack, "shopper")
    coupon = _ok(stack.call("POST", f"/coupons/{campaign_id}/redeem", shopper), 201)
    # When the merchant ends the campaign (twice: idempotent)
    assert _ok(stack.call("POST", f"/merchants/me/coupons/{campaign_id}/end", store))["status"] == "ended"
    assert _ok(stack.call("POST", f"/merchants/me/coupons/{campaign_id}/end", store))["status"] == "ended"
    # Then a redeem is 409 Ended
    refused = stack.call("POST", f"/coupons/{campaign_id}/redeem", _named(stack, "late"))
    assert (refused.status_code, refused.json()["Code"]) == (409, "Ended"), refused.text
    # And the campaign is listed among the store's ended ones
    ended = _post(stack, store, "/merchants/me/coupons?status=ended")["items"]
    assert [c["campaign_id"] for c in ended] == [campaign_id]
    # And the coupon already issued stays valid: the merchant looks its code up, with its holder
    found = _post(stack, store, f"/merchants/me/coupons/lookup?code={coupon['coupon_code']}")
    assert (found["coupon_code"], found["campaign_id"], found["status"]) == (coupon["coupon_code"], campaign_id,
                                                                             "issued")
    assert found["owner"]["user_id"] == shopper.user_id
    # And another store cannot look it up (404), nor can a shopper (403)
    other = _named(stack, "other-store", groups=("merchants",))
    _ok(stack.call("PUT", "/merchants/me", other, {"store_name": "Elsewhere"}))
    lookup = f"/merchants/me/coupons/lookup?code={coupon['coupon_code']}"
    assert stack.call("GET", lookup, other).status_code == 404
    assert stack.call("GET", lookup, shopper).status_code == 403
