"""Response views are built once, from the items into the route's response model: a service hands
the route its model, never a dict that `chalicelib.http` would have to validate a second time."""

from __future__ import annotations

import uuid

import pytest

from chalicelib import http
from chalicelib.domain.points import Award
from tests.integration.test_coupons import campaign_body
from tests.support.advice import answer, ask, product, review
from tests.support.api import call


@pytest.fixture
def rebuilt(monkeypatch) -> list[str]:
    """The response models `_serialise` had to build from something other than themselves."""
    seen: list[str] = []
    serialise = http._serialise

    def counting(model, result):
        if model is not None and result is not None and not isinstance(result, model):
            seen.append(model.__name__)
        return serialise(model, result)

    monkeypatch.setattr(http, "_serialise", counting)
    return seen


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.data
    return response.data


def test_the_views_of_profiles_advice_products_and_stores_reach_the_route_as_models(client, users, rebuilt):
    shop, alice, bob = users("shop", groups=("merchants",)), users("alice"), users("bob")
    # profiles and the graph
    _ok(call(client, "GET", "/me", alice))
    _ok(call(client, "PUT", "/me", alice, {"display_name": "Alice", "bio": "hi", "labels": ["camera"]}))
    _ok(call(client, "PUT", f"/users/{alice.user_id}/follow", bob))
    _ok(call(client, "GET", f"/users/{alice.user_id}", bob))
    _ok(call(client, "GET", f"/users/{alice.user_id}/followers", bob))
    _ok(call(client, "GET", f"/users/{bob.user_id}/following", bob))
    # stores and products
    _ok(call(client, "PUT", "/merchants/me", shop, {"store_name": "Lens Corner", "description": "", "labels": []}))
    _ok(call(client, "GET", f"/merchants/{shop.user_id}", alice))
    _ok(call(client, "PUT", f"/merchants/{shop.user_id}/ratings/me", users("judge", groups=("judges",)),
             {"score": 80}))
    item = product(client, shop)
    _ok(call(client, "GET", f"/products/{item['product_id']}", alice))
    _ok(call(client, "GET", f"/merchants/{shop.user_id}/products", alice))
    # reviews and wish lists
    written = review(client, alice, item["product_id"])
    _ok(call(client, "GET", f"/products/{item['product_id']}/reviews", bob))
    _ok(call(client, "PUT", f"/reviews/{written['review_id']}/helpful", bob, {"value": True}))
    _ok(call(client, "PUT", f"/me/wishlist/{item['product_id']}", bob))
    _ok(call(client, "GET", f"/users/{bob.user_id}/wishlist", alice))
    # questions and answers
    question = ask(client, alice, product_ids=[item["product_id"]])
    _ok(call(client, "GET", f"/questions/{question['question_id']}", bob))
    reply = answer(client, bob, question["question_id"])
    _ok(call(client, "GET", f"/questions/{question['question_id']}/answers", alice))
    _ok(call(client, "PUT", f"/answers/{reply['answer_id']}/vote", alice, {"value": 1}))
    _ok(call(client, "POST", f"/questions/{question['question_id']}/accept", alice,
             {"answer_id": reply["answer_id"]}))
    # points and notifications
    _ok(call(client, "GET", "/me/points", bob))
    _ok(call(client, "GET", "/me/notifications", alice))
    _ok(call(client, "GET", "/me/notifications/unread-count", alice))
    _ok(call(client, "GET", "/good-finds", alice))
    _ok(call(client, "PUT", f"/users/{bob.user_id}/block", alice))
    _ok(call(client, "GET", "/me/blocks", alice))

    assert rebuilt == []


def test_coupon_views_reach_the_route_as_models(client, users, rebuilt):
    from chalicelib.domain.ids import utc_now
    from chalicelib.services.rewards import settle_cause

    shop, bob = users("shop", groups=("merchants",)), users("bob")
    settle_cause(bob.user_id, f"test#{uuid.uuid4().hex}", Award(100, "answer_accepted", capped=False),
                 effect_id=f"test:{uuid.uuid4().hex}", at=utc_now(), ref="test")
    campaign = _ok(call(client, "POST", "/merchants/me/coupons", shop, campaign_body()), 201)
    _ok(call(client, "GET", f"/merchants/{shop.user_id}/coupons", bob))
    coupon = _ok(call(client, "POST", f"/coupons/{campaign['campaign_id']}/redeem", bob), 201)
    _ok(call(client, "GET", "/me/coupons", bob))
    _ok(call(client, "POST", "/merchants/me/coupons/use", shop, {"coupon_code": coupon["coupon_code"]}))

    assert rebuilt == []
