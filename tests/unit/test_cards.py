"""The card views, from model instances (no AWS)."""

from __future__ import annotations

import pytest

from chalicelib.domain.products import check_currency, rating_average
from chalicelib.models.advice import Product
from chalicelib.models.merchants import Merchant
from chalicelib.models.users import UserProfile
from chalicelib.services.cards import CardRead, product_card, user_card


def test_a_user_card_names_the_person_their_levels_highest_first_and_their_store():
    profile = UserProfile("u1", display_name="Mei", avatar_url="https://img.example.com/a.png",
                          expert_levels={"phone#1", "camera#2", "camera#3", "audio#0"})
    store = Merchant("u1", store_name="Lens Corner", tier="gold", badge="Gold Store")
    card = user_card("u1", profile, store).model_dump()
    assert card == {
        "user_id": "u1", "display_name": "Mei", "avatar_url": "https://img.example.com/a.png",
        "expert": [{"label": "camera", "level": 3}, {"label": "phone", "level": 1}],
        "merchant": {"store_name": "Lens Corner", "tier": "gold", "badge": "Gold Store"},
    }


def test_a_user_without_a_store_name_has_no_store_on_the_card():
    card = user_card("u1", UserProfile("u1", display_name="Mei"), Merchant("u1"))
    assert card.merchant is None and card.expert == []


def test_an_erased_account_is_the_deleted_user_card():
    assert user_card("gone", None, None).model_dump() == {
        "user_id": None, "display_name": "Deleted user", "avatar_url": None, "expert": [], "merchant": None,
    }


def test_a_product_card_carries_price_currency_rating_and_its_store():
    product = Product("p1", merchant_id="m1", title="Lens", price_cents=19_900, image_url=None, currency="USD",
                      rating_total=9, review_count=2)
    store = Merchant("m1", store_name="Lens Corner", tier="silver", badge="Silver Store")
    assert product_card("p1", product, store).model_dump() == {
        "product_id": "p1", "title": "Lens", "price_cents": 19_900, "currency": "USD", "image_url": None,
        "rating_avg": 4.5, "review_count": 2, "available": True,
        "merchant": {"merchant_id": "m1", "store_name": "Lens Corner", "tier": "silver", "badge": "Silver Store"},
    }


def test_a_deleted_product_is_unavailable_and_shows_what_was_kept_of_it():
    card = product_card("p1", None, None, {"title": "Lens", "price_cents": 100, "merchant_id": "m1"})
    assert card.available is False
    assert (card.title, card.price_cents, card.currency, card.merchant.merchant_id) == ("Lens", 100, "CNY", "m1")
    bare = product_card("p2", None, None)
    assert bare.available is False and bare.title is None and bare.merchant is None


def test_the_card_keys_read_each_profile_store_and_product_once():
    read = CardRead(user_ids=["u1", "u2", "u1"], product_ids=["p1", "p1", "p2"], merchant_of={"p1": "u2", "p2": "m9"})
    tables = [(model.__name__, key) for model, key, _ in read.keys()]
    assert tables == [("UserProfile", "u1"), ("UserProfile", "u2"), ("Merchant", "u1"), ("Merchant", "u2"),
                      ("Merchant", "m9"), ("Product", "p1"), ("Product", "p2")]


def test_the_rating_average_is_none_without_reviews_and_two_decimals_with():
    assert rating_average(0, 0) is None
    assert rating_average(14, 3) == 4.67


@pytest.mark.parametrize("code", ["cny", "XXX", "RMB", "", "CNY "])
def test_only_iso_4217_codes_are_currencies(code):
    with pytest.raises(ValueError):
        check_currency(code)
    assert check_currency("CNY") == "CNY"


def test_a_review_counts_on_insert_and_its_removal_takes_it_back():
    from chalicelib.domain.products import review_counter_moves

    review = {"review_id": "r1", "product_id": "p1", "rating": 4}
    assert review_counter_moves(None, review) == ("p1", 1, 4)
    assert review_counter_moves(review, None) == ("p1", -1, -4)
    assert review_counter_moves(review, {**review, "rating": 2}) == ("p1", 0, -2)
    assert review_counter_moves(review, {**review, "helpful_count": 3}) is None
    # the one-review-per-user guard items of the same table count nothing
    assert review_counter_moves(None, {"review_id": "guard", "guarded_review_id": "r1"}) is None


def test_the_card_keeps_each_labels_highest_level():
    from chalicelib.domain.points import level_mark, reached_levels

    assert reached_levels({level_mark("camera", 1), level_mark("camera", 3), "phone#2", "bad", "x#y"}) == {
        "camera": 3, "phone": 2}
