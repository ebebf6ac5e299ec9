"""User and product cards on every route that names a person or a product (SPEC Round 2)."""

from __future__ import annotations

import pytest

from tests.support.advice import answer, ask, product, review
from tests.support.api import call
from tests.support.posts import follow, publish

DELETED = {"user_id": None, "display_name": "Deleted user", "avatar_url": None, "expert": [], "merchant": None}


def ok(response, status: int = 200):
    assert response.status_code == status, response.data
    return response.data


def named(client, user, name: str):
    ok(call(client, "PUT", "/me", user, {"display_name": name}))
    return user


@pytest.fixture
def gold_store(client, users, streams):
    """A merchant whose store the judges' panel rated Gold, with two products."""
    merchant = named(client, users("store", groups=("merchants",)), "Lens Keeper")
    ok(call(client, "PUT", "/merchants/me", merchant, {"store_name": "Gold Lens"}))
    products = [product(client, merchant, title=f"Lens {i}", price_cents=10_000 + i)["product_id"] for i in range(2)]
    for i in range(3):
        judge = users(f"judge{i}", groups=("judges",))
        ok(call(client, "PUT", f"/merchants/{merchant.user_id}/ratings/me", judge, {"score": 85}))
    streams.drain()
    return merchant, products


GOLD = {"store_name": "Gold Lens", "tier": "gold", "badge": "tier-gold"}


def test_a_feed_post_by_a_merchant_carries_its_tier_its_product_cards_and_kind(client, users, streams, gold_store):
    merchant, product_ids = gold_store
    reader = named(client, users("reader"), "Reader")
    follow(client, reader, merchant)
    streams.drain()
    poll = {"options": [{"text": "first", "product_id": product_ids[1]}, {"text": "neither"}]}
    post_id = publish(client, merchant, "new lenses", product_ids=product_ids, poll=poll)
    streams.drain()

    item = ok(call(client, "GET", "/feed", reader))["items"][0]

    assert (item["kind"], item["post_id"], item["author_id"]) == ("post", post_id, merchant.user_id)
    assert item["author"] == {"user_id": merchant.user_id, "display_name": "Lens Keeper", "avatar_url": None,
                              "expert": [], "merchant": GOLD}
    assert item["product_ids"] == product_ids
    assert [card["product_id"] for card in item["products"]] == product_ids
    assert item["products"][0] == {
        "product_id": product_ids[0], "title": "Lens 0", "price_cents": 10_000, "currency": "CNY", "image_url": None,
        "rating_avg": None, "review_count": 0, "available": True, "merchant": {"merchant_id": merchant.user_id, **GOLD},
    }
    options = item["poll"]["options"]
    assert options[0]["product"]["product_id"] == product_ids[1] and options[1]["product"] is None
    # the same cards on the post itself and on the author's list
    assert ok(call(client, "GET", f"/posts/{post_id}", reader))["products"] == item["products"]
    listed = ok(call(client, "GET", f"/users/{merchant.user_id}/posts", reader))["items"][0]
    assert listed["author"] == item["author"]


def test_a_renamed_user_appears_renamed_on_posts_answers_and_follower_lists(client, users, streams):
    author, reader = named(client, users("author"), "Old Name"), named(client, users("reader"), "Reader")
    follow(client, reader, author)
    post_id = publish(client, author, "hi")
    question = ask(client, reader)
    answer(client, author, question["question_id"])

    named(client, author, "New Name")

    assert ok(call(client, "GET", f"/posts/{post_id}", reader))["author"]["display_name"] == "New Name"
    answers = ok(call(client, "GET", f"/questions/{question['question_id']}/answers", reader))["items"]
    assert answers[0]["user"]["display_name"] == "New Name"
    following = ok(call(client, "GET", f"/users/{reader.user_id}/following", reader))["items"]
    assert following[0]["user"] == {"user_id": author.user_id, "display_name": "New Name", "avatar_url": None,
                                    "expert": [], "merchant": None}
    followers = ok(call(client, "GET", f"/users/{author.user_id}/followers", author))["items"]
    assert followers[0]["user"]["display_name"] == "Reader"


def test_questions_answers_and_reviews_name_people_by_card(client, users, gold_store):
    merchant, product_ids = gold_store
    asker, answerer = named(client, users("asker"), "Asker"), named(client, users("answerer"), "Answerer")
    question = ask(client, asker, product_ids=[product_ids[0]])
    assert question["user"]["display_name"] == "Asker"
    assert [card["merchant"]["tier"] for card in question["products"]] == ["gold"]
    created = answer(client, answerer, question["question_id"])
    assert created["user"]["user_id"] == answerer.user_id and created["author_id"] == answerer.user_id

    got = ok(call(client, "GET", f"/questions/{question['question_id']}", answerer))
    assert (got["user"]["user_id"], got["products"][0]["product_id"]) == (asker.user_id, product_ids[0])
    listed = ok(call(client, "GET", "/questions?label=camera", answerer))["items"]
    assert listed[0]["user"]["display_name"] == "Asker"
    assert ok(call(client, "GET", f"/questions/{question['question_id']}/answers", asker))["items"][0]["user"][
        "display_name"] == "Answerer"

    written = review(client, answerer, product_ids[0])
    assert written["user"]["display_name"] == "Answerer"
    reviews = ok(call(client, "GET", f"/products/{product_ids[0]}/reviews", asker))["items"]
    assert reviews[0]["user"] == written["user"]


def test_an_erased_account_shows_the_deleted_user_card_and_keeps_its_id_field(client, users):
    from chalicelib.models.users import UserProfile

    asker, answerer = named(client, users("asker"), "Asker"), named(client, users("gone"), "Gone Soon")
    question = ask(client, asker)
    answer(client, answerer, question["question_id"])
    UserProfile(answerer.user_id).delete()  # what erasing the account leaves

    item = ok(call(client, "GET", f"/questions/{question['question_id']}/answers", asker))["items"][0]
    assert item["user"] == DELETED
    assert item["author_id"] == answerer.user_id


def test_a_wish_list_keeps_a_deleted_product_as_unavailable(client, users, gold_store):
    from chalicelib.models.advice import Product

    merchant, product_ids = gold_store
    shopper = named(client, users("shopper"), "Shopper")
    added = ok(call(client, "PUT", f"/me/wishlist/{product_ids[0]}", shopper))
    assert added["product"]["available"] is True and added["product"]["merchant"]["tier"] == "gold"
    ok(call(client, "PUT", f"/me/wishlist/{product_ids[1]}", shopper))
    Product(product_ids[0]).delete()

    page = ok(call(client, "GET", f"/users/{shopper.user_id}/wishlist", shopper))
    items = {entry["product_id"]: entry for entry in page["items"]}

    gone = items[product_ids[0]]["product"]
    assert gone["available"] is False
    assert (gone["title"], gone["price_cents"], gone["merchant"]["merchant_id"]) == ("Lens 0", 10_000, merchant.user_id)
    assert items[product_ids[1]]["product"]["available"] is True


def test_expert_levels_ride_on_the_card_once_reached_even_when_the_effect_is_replayed(client, users, streams):
    from datetime import UTC, datetime

    from chalicelib.domain.changes import Change
    from chalicelib.services.experts import move_scores

    expert, reader = named(client, users("expert"), "Expert"), named(client, users("reader"), "Reader")
    post_id = publish(client, expert, "tips")
    change = Change(table="AnswerVotes", kind="INSERT", keys={}, old=None, new={}, sequence_number="card-levels-1",
                    created_at=datetime.now(UTC))
    # Given the expert reaches level 2 in camera and level 1 in phone, the first record delivered twice
    move_scores({(expert.user_id, "camera"): 50, (expert.user_id, "phone"): 10}, change)
    move_scores({(expert.user_id, "camera"): 50, (expert.user_id, "phone"): 10}, change)

    card = ok(call(client, "GET", f"/posts/{post_id}", reader))["author"]
    assert card["expert"] == [{"label": "camera", "level": 2}, {"label": "phone", "level": 1}]
    board = ok(call(client, "GET", "/leaderboards/camera", reader))["items"]
    assert board[0]["user"] == card and board[0]["score"] == 50


def test_products_take_a_description_and_an_iso_currency(client, users):
    merchant = users("store", groups=("merchants",))
    made = product(client, merchant, description="Fixed 35mm", currency="USD")
    assert (made["description"], made["currency"], made["rating_avg"], made["review_count"]) == (
        "Fixed 35mm", "USD", None, 0)
    assert product(client, merchant)["currency"] == "CNY"
    for bad in ("usd", "RMB", "XXXX", 5):
        response = call(client, "POST", "/products", merchant,
                        {"title": "x", "price_cents": 100, "labels": ["camera"], "currency": bad})
        assert response.status_code == 400, (bad, response.data)
    too_long = call(client, "POST", "/products", merchant,
                    {"title": "x", "price_cents": 100, "labels": ["camera"], "description": "d" * 5001})
    assert too_long.status_code == 400


def test_rating_average_and_review_count_are_exact_under_replayed_delivery(client, users, chaos_streams):
    merchant = users("store", groups=("merchants",))
    product_id = product(client, merchant)["product_id"]
    for index, rating in enumerate((5, 4, 4)):
        review(client, users(f"reviewer{index}"), product_id, rating=rating)
    chaos_streams.drain()

    got = ok(call(client, "GET", f"/products/{product_id}", merchant))
    assert (got["review_count"], got["rating_avg"]) == (3, 4.33)
