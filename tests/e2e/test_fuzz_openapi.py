"""Schemathesis against the app's own /openapi.json on the local stack: no 5xx, every response
(status, content type, body) matches what the document promises, and no operation refuses most of
the data the document calls valid (its `validation_mismatch` warning fails the run).

Ids of things that exist (another user, their store, product, poll, circle, question, answer,
review, campaigns, a coupon code and a shared activity of the caller's) are bound to the path and
body parameters that take them, with a probability, so generated requests reach each route's logic
as well as its 404s.
"""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytestmark = pytest.mark.fuzz

MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "10")
PHASES = os.environ.get("FUZZ_PHASES", "examples,coverage,fuzzing,stateful")


def _created(response, status=201) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def seed_world(stack, fuzzer) -> dict[str, str]:
    """What the fuzzer's requests can name: every value is something the route accepts."""
    other = stack.sign_up("neighbour", groups=("merchants",))
    _created(stack.call("PUT", "/merchants/me", fuzzer, {"store_name": "Fuzz Store"}), 200)
    _created(stack.call("PUT", "/merchants/me", other, {"store_name": "Next Door"}), 200)
    expires_at = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    free = {"title": "Free", "discount_cents": 100, "min_spend_cents": 0, "points_cost": 0,
            "total_quantity": 1000, "per_user_limit": 1, "expires_at": expires_at}
    own_campaign = _created(stack.call("POST", "/merchants/me/coupons", fuzzer, free))
    their_campaign = _created(stack.call("POST", "/merchants/me/coupons", other, free))
    coupon = _created(stack.call("POST", f"/coupons/{own_campaign['campaign_id']}/redeem", other))
    product = _created(stack.call("POST", "/products", other,
                                  {"title": "Kettle", "price_cents": 1999, "labels": ["cooking"]}))
    own_product = _created(stack.call("POST", "/products", fuzzer,
                                      {"title": "Pan", "price_cents": 2999, "labels": ["cooking"]}))
    review = _created(stack.call("POST", f"/products/{own_product['product_id']}/reviews", other,
                                 {"rating": 4, "body": "Heats evenly"}))
    poll = _created(stack.call("POST", "/posts", other, {
        "text": "Which one?", "poll": {"options": [{"text": "red"}, {"text": "blue"}, {"text": "green"}]}}))
    group = _created(stack.call("POST", "/groups", other,
                                {"name": "Cooks", "description": "Pans and pots", "label": "cooking"}))
    question = _created(stack.call("POST", "/questions", fuzzer,
                                   {"title": "Which kettle?", "body": "For tea", "labels": ["cooking"]}))
    answer = _created(stack.call("POST", f"/questions/{question['question_id']}/answers", other,
                                 {"body": "The steel one"}))
    # a shared activity of the fuzzer's own (a wish-list add, shared through the Wishlists stream)
    _created(stack.call("PUT", "/me/sharing", fuzzer, {"wishlist_add": True}), 200)
    _created(stack.call("PUT", f"/me/wishlist/{product['product_id']}", fuzzer), 200)
    shared = stack.eventually(lambda: stack.call("GET", "/me/activity", fuzzer).json()["items"], timeout=10.0)
    # someone whose public wish list the fuzzer never blocks its way out of (it blocks `other`)
    wisher = stack.sign_up("wisher")
    _created(stack.call("PUT", f"/me/wishlist/{product['product_id']}", wisher), 200)
    export = _created(stack.call("POST", "/me/export", fuzzer), 202)
    room = _created(stack.call("POST", "/live", fuzzer, {"title": "Fuzz live", "labels": ["cooking"],
                                                         "product_ids": [own_product["product_id"]]}))
    _created(stack.call("POST", f"/live/{room['room_id']}/start", fuzzer), 200)
    return {
        "activity_id": shared[0]["activity_id"], "wisher_id": wisher.user_id,
        "room_id": room["room_id"],
        "user_id": other.user_id, "merchant_id": other.user_id, "product_id": product["product_id"],
        "post_id": poll["post_id"], "group_id": group["group_id"], "question_id": question["question_id"],
        "answer_id": answer["answer_id"], "review_id": review["review_id"],
        "campaign_id": their_campaign["campaign_id"], "coupon_code": coupon["coupon_code"],
        "code": coupon["coupon_code"], "expires_at": expires_at,
        # reports and moderation: the neighbour as the target (the fuzzer, an admin, may suspend them;
        # any other target type than "user" with this id is a 404, and content needs no binding then)
        "target_type": "user", "target_id": other.user_id,
        "q": "kettle",  # GET /search: a prefix of the seeded product's title
        "export_id": export["export_id"],
    }


#: Routes whose user must not be the caller.
ABOUT_ANOTHER_USER = ("follow_user", "unfollow_user", "block_user", "unblock_user")
#: Where each name is taken, when not only in paths.
LOCATIONS = {"answer_id": ("path", "body"), "coupon_code": ("body",), "code": ("query",), "expires_at": ("body",),
             "target_type": ("body",), "target_id": ("body",), "wisher_id": (), "q": ("query",)}


#: Routes that erase their caller (DELETE /me): they run with a throwaway account's token, so the fuzzer
#: and the world seeded for the other routes stay.
ERASES_CALLER = ("delete_me",)


def schemathesis_config(world: dict[str, str], probability: float = 0.6, throwaway_token: str = "") -> str:
    lines = ["[warnings]", 'fail-on = ["validation_mismatch"]', ""]
    for name, value in world.items():
        lines += [f"[dictionaries.{name}]", f"values = [{json.dumps(value)}]", ""]
    lines.append("[parameters]")
    for name in world:
        for location in LOCATIONS.get(name, ("path",)):
            lines.append(f'"{location}.{name}" = {{ dictionary = "{name}", probability = {probability} }}')
    # Following or blocking oneself is a 400 that no schema can rule out (it depends on the caller),
    # and ids captured from earlier answers (the caller's own) would lead every case there
    lines += ["", "[[operations]]", f"include-operation-id = {json.dumps(list(ABOUT_ANOTHER_USER))}",
              f'parameters = {{ "path.user_id" = {json.dumps(world["user_id"])} }}']
    # A wish list is 403 across a block, and the fuzzer blocks `other`: read a list it can see
    lines += ["", "[[operations]]", 'include-operation-id = ["get_wishlist"]',
              f'parameters = {{ "path.user_id" = {json.dumps(world["wisher_id"])} }}']
    if throwaway_token:
        lines += ["", "[[operations]]", f"include-operation-id = {json.dumps(list(ERASES_CALLER))}",
                  f'headers = {{ "Authorization" = {json.dumps(throwaway_token)} }}']
    return "\n".join(lines) + "\n"


def schemathesis_command(api_url: str, token: str, config: Path) -> list[str]:
    st = Path(sys.executable).with_name("st")
    return [
        str(st), "--config-file", str(config), "run", f"{api_url}/openapi.json",
        "-H", f"Authorization: {token}",
        "--max-examples", MAX_EXAMPLES, "--seed", "20261123", "--workers", "2",
        "--phases", PHASES,
        "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                    "response_schema_conformance",
        "--suppress-health-check", "all",
    ]


def test_openapi_fuzz_finds_no_server_error_no_schema_drift_and_no_validation_mismatch(stack, tmp_path):
    # Given a shopper who is also a merchant, a judge and an admin, so group-only routes reach their
    # logic, and a world of things that exist for the generated requests to name
    user = stack.sign_up("fuzzer", groups=("merchants", "judges", "admins"))
    assert stack.call("GET", "/me", user).status_code == 200
    config = tmp_path / "schemathesis.toml"
    throwaway = stack.sign_up("leaving")  # DELETE /me erases this one, not the fuzzer
    assert stack.call("GET", "/me", throwaway).status_code == 200
    config.write_text(schemathesis_config(seed_world(stack, user), throwaway_token=throwaway.token))
    # When schemathesis generates requests for every operation, and chains writes through the links
    result = subprocess.run(schemathesis_command(stack.api_url, user.token, config), capture_output=True,
                            text=True, timeout=540, cwd=tmp_path)
    # Then nothing fails and no warning named in fail-on was raised
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
