"""Every route of the contract refuses callers it should not serve.

The route list comes from the app's own declarations, so a route added later is covered the
moment it exists. Ownership and group refusals (another user's token, a token without the needed
group) are checked route by route in each feature's tests and in `test_nobody_acts_for_another`.
"""

from __future__ import annotations

import json
import re
import time

import jwt
import pytest

from chalicelib.http import ROUTES
from tests.support.api import call

PUBLIC = {("GET", "/health"), ("GET", "/openapi.json")}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "some-id", path)


def _protected_routes():
    import app  # noqa: F401  (registers every route)

    return [spec for spec in ROUTES if (spec.method, spec.path) not in PUBLIC]


def test_only_health_and_openapi_are_public():
    import app  # noqa: F401

    assert {(spec.method, spec.path) for spec in ROUTES if spec.public} == PUBLIC


def test_every_other_route_refuses_missing_and_bad_tokens(client, users):
    someone = users()
    claims = jwt.decode(someone.token, options={"verify_signature": False})
    expired = dict(claims, exp=int(time.time()) - 60)
    forged_header, _, signature = someone.token.split(".")
    import base64
    import json

    forged_payload = base64.urlsafe_b64encode(json.dumps(expired).encode()).rstrip(b"=").decode()
    bad_tokens = {
        "missing": None,
        "garbage": "not.a.token",
        "unsigned": jwt.encode(claims, None, algorithm="none"),
        "altered": f"{forged_header}.{forged_payload}.{signature}",
    }
    routes = _protected_routes()
    assert len(routes) >= 10
    for spec in routes:
        for name, token in bad_tokens.items():
            headers = {"Content-Type": "application/json"}
            if token is not None:
                headers["Authorization"] = token
            response = client.http.request(spec.method, _concrete(spec.path), headers=headers, body="{}")
            assert response.status_code == 401, f"{spec.method} {spec.path} with {name} token"


@pytest.mark.parametrize("prefix", ["", "Bearer ", "bearer "])
def test_a_good_token_is_accepted_with_or_without_bearer(client, users, prefix):
    someone = users()
    response = call(client, "GET", "/me", headers={"Authorization": prefix + someone.token})
    assert response.status_code == 200


def test_nobody_acts_for_another_and_groups_guard_their_routes(client, users, streams):
    """Identity comes only from the token: each refusal below is another user's resource, or a
    route of a group the caller is not in."""
    from datetime import timedelta

    from chalicelib.domain.ids import iso, utc_now
    from tests.integration.test_coupons import give_points
    from tests.support.advice import answer, ask, product, review

    shopper, other = users("shopper"), users("other")
    merchant, rival = users("merchant", groups=("merchants",)), users("rival", groups=("merchants",))
    judge = users("judge", groups=("judges",))
    for user in (shopper, other, merchant, rival, judge):
        assert call(client, "GET", "/me", user).status_code == 200
    store = {"store_name": "Lens Lane", "description": "cameras", "labels": ["camera"]}
    assert call(client, "PUT", "/merchants/me", merchant, store).status_code == 200
    assert call(client, "PUT", "/merchants/me", rival, dict(store, store_name="Rival")).status_code == 200

    # Group-only routes refuse a token without the group
    campaign = {"title": "5 off", "discount_cents": 500, "min_spend_cents": 1000, "points_cost": 10,
                "total_quantity": 3, "per_user_limit": 1, "expires_at": iso(utc_now() + timedelta(days=7))}
    for method, path, body in [
        ("POST", "/products", {"title": "Lens", "price_cents": 100, "labels": ["camera"]}),
        ("PUT", "/merchants/me", store),
        ("POST", "/merchants/me/coupons", campaign),
        ("POST", "/merchants/me/coupons/use", {"coupon_code": "ABCDEFGHJKMNPQRS"}),
        ("PUT", f"/merchants/{merchant.user_id}/ratings/me", {"score": 90}),
        ("GET", "/admin/reports", None),
        ("GET", "/admin/moderation", None),
        ("POST", "/admin/moderation", {"target_type": "user", "target_id": other.user_id, "action": "suspend",
                                       "reason": "x"}),
    ]:
        response = call(client, method, path, shopper, body)
        assert response.status_code == 403, (method, path, response.data)

    # Posts: only the author deletes
    post = call(client, "POST", "/posts", shopper, {"text": "new bag"}).data
    assert call(client, "DELETE", f"/posts/{post['post_id']}", other).status_code == 403
    # Circles: only members post
    group = call(client, "POST", "/groups", shopper, {"name": "Bags", "description": "bags", "label": "lolita"}).data
    assert call(client, "POST", "/posts", other, {"text": "hi", "group_id": group["group_id"]}).status_code == 403
    # Advice: only the asker accepts; nobody votes on their own answer
    question = ask(client, shopper)
    reply = answer(client, other, question["question_id"])
    accept = {"answer_id": reply["answer_id"]}
    assert call(client, "POST", f"/questions/{question['question_id']}/accept", other, accept).status_code == 403
    assert call(client, "PUT", f"/answers/{reply['answer_id']}/vote", other, {"value": 1}).status_code == 403
    # Reviews: not of your own product, and no helpful mark on your own review
    lens = product(client, merchant)
    assert call(client, "POST", f"/products/{lens['product_id']}/reviews", merchant,
                {"rating": 5, "body": "mine"}).status_code == 403
    mine = review(client, shopper, lens["product_id"])
    assert call(client, "PUT", f"/reviews/{mine['review_id']}/helpful", shopper, {"value": True}).status_code == 403
    # Judges: not their own store
    judge_store = users("judge-store", groups=("judges", "merchants"))
    call(client, "GET", "/me", judge_store)
    assert call(client, "PUT", "/merchants/me", judge_store, dict(store, store_name="Judge's")).status_code == 200
    assert call(client, "PUT", f"/merchants/{judge_store.user_id}/ratings/me", judge_store,
                {"score": 99}).status_code == 403
    # Coupons: only the issuing merchant marks a coupon used
    offer = call(client, "POST", "/merchants/me/coupons", merchant, campaign).data
    give_points(shopper, 10)
    coupon = call(client, "POST", f"/coupons/{offer['campaign_id']}/redeem", shopper).data
    use = {"coupon_code": coupon["coupon_code"]}
    assert call(client, "POST", "/merchants/me/coupons/use", rival, use).status_code == 403
    assert call(client, "POST", "/merchants/me/coupons/use", merchant, use).status_code == 200


def test_an_overlong_id_in_any_path_is_a_404_not_an_error(client, users):
    someone = users()
    long_id = "x" * 3000
    for spec in _protected_routes():
        if "{" not in spec.path:
            continue
        path = re.sub(r"\{[^}]+\}", long_id, spec.path)
        response = client.http.request(spec.method, path, headers=someone.headers, body="{}")
        assert response.status_code == 404, f"{spec.method} {spec.path}: {response.status_code}"


def test_a_group_only_route_refuses_an_outsider_before_reading_the_body(client, users):
    # The document declares these routes group-only (x-required-group, 403): an outsider's request is
    # a 403 whatever its body, not a 400 that would tell them how to shape it
    outsider = users()
    grouped = [spec for spec in _protected_routes() if spec.group]
    assert {spec.group for spec in grouped} == {"merchants", "judges", "admins"}
    for spec in grouped:
        path = re.sub(r"\{[^}]+\}", "01M8N0QDG8JK6SHXDZNHMMZE14", spec.path)
        response = client.http.request(spec.method, path, headers=outsider.headers, body="{}")
        assert response.status_code == 403, f"{spec.method} {spec.path}: {response.status_code}"


def test_a_suspended_user_is_refused_on_every_write_route_and_served_on_reads(client, users):
    """Suspension is checked on the write counter every write touches, before the body is read: each
    write route answers 403 `Suspended` (a group route the user is not in refuses first)."""
    from chalicelib.models.effects import RateBucket
    from chalicelib.services.rate_limits import suspension_actions, writes_bucket

    suspended = users("suspended", groups=("merchants", "judges", "admins"))
    assert call(client, "GET", "/me", suspended).status_code == 200
    RateBucket(writes_bucket(suspended.user_id)).update(actions=suspension_actions(True, "2026-11-30T00:00:00Z",
                                                                                   time.time()))
    writes = [spec for spec in _protected_routes() if spec.method in ("POST", "PUT", "PATCH", "DELETE")]
    assert len(writes) >= 30
    for spec in writes:
        path = re.sub(r"\{[^}]+\}", "01M8N0QDG8JK6SHXDZNHMMZE14", spec.path)
        response = client.http.request(spec.method, path, headers=suspended.headers, body="{}")
        assert response.status_code == 403, f"{spec.method} {spec.path}: {response.status_code}"
        assert json.loads(response.body)["Code"] == "Suspended", f"{spec.method} {spec.path}"
    assert call(client, "GET", "/me", suspended).status_code == 200
    assert call(client, "GET", "/feed", suspended).status_code == 200
