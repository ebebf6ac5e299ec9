"""Merchant profiles, the judges' panel and tiers, through the routes and the real stream path."""

from __future__ import annotations

import pytest

from tests.support.api import call


@pytest.fixture
def store(client, users):
    """A merchant with a store profile (and a shopper profile, so `GET /users/{id}` finds them)."""
    merchant = users("merchant", groups=("merchants",))
    call(client, "GET", "/me", merchant)
    response = call(client, "PUT", "/merchants/me", merchant,
                    {"store_name": "Lens Corner", "description": "Used cameras", "labels": ["camera"]})
    assert response.status_code == 200, response.data
    return merchant


@pytest.fixture
def judges(users):
    return [users(f"judge{i}", groups=("judges",)) for i in range(4)]


def rate(client, judge, merchant, score, comment=None):
    body = {"score": score} if comment is None else {"score": score, "comment": comment}
    return call(client, "PUT", f"/merchants/{merchant.user_id}/ratings/me", judge, body)


def standing(client, merchant, viewer=None):
    data = call(client, "GET", f"/merchants/{merchant.user_id}", viewer or merchant).data
    return data["tier"], data["badge"], data["judge_count"], data["mean_score"]


def tier_notices(client, merchant):
    notes = call(client, "GET", "/me/notifications", merchant).data["items"]
    return [n["data"] for n in notes if n["type"] == "merchant_tier"]


# -- merchant profiles -----------------------------------------------------------------------------

def test_a_merchant_creates_and_updates_their_store(client, users):
    # Given a member of the merchants group
    merchant = users("merchant", groups=("merchants",))
    # When they describe their store
    created = call(client, "PUT", "/merchants/me", merchant,
                   {"store_name": "Lens Corner", "description": "Used cameras", "labels": ["camera", "digital"]})
    # Then anyone sees it, unrated
    assert created.status_code == 200, created.data
    shown = call(client, "GET", f"/merchants/{merchant.user_id}", users()).data
    assert shown == created.data
    assert shown["merchant_id"] == merchant.user_id
    assert (shown["store_name"], shown["labels"], shown["tier"], shown["badge"], shown["judge_count"]) == (
        "Lens Corner", ["camera", "digital"], None, None, 0)
    # When they rename it
    renamed = call(client, "PUT", "/merchants/me", merchant, {"store_name": "Lens & Co", "labels": []})
    # Then the new name shows, with the description back to empty
    assert renamed.data["store_name"] == "Lens & Co"
    assert renamed.data["description"] == "" and renamed.data["labels"] == []
    assert renamed.data["created_at"] == created.data["created_at"]
    assert call(client, "GET", "/merchants/me", merchant).data["store_name"] == "Lens & Co"


def test_only_merchants_may_open_a_store(client, users):
    shopper = users("shopper")
    response = call(client, "PUT", "/merchants/me", shopper, {"store_name": "Nope"})
    assert response.status_code == 403
    assert call(client, "GET", f"/merchants/{shopper.user_id}", shopper).status_code == 404


def test_store_profile_input_is_checked(client, users):
    merchant = users("merchant", groups=("merchants",))
    cases = [
        ({}, "store_name"),
        ({"store_name": ""}, "store_name"),
        ({"store_name": "   "}, "store_name"),
        ({"store_name": "x" * 101}, "store_name"),
        ({"store_name": 5}, "store_name"),
        ({"store_name": "Shop", "labels": ["not-a-label"]}, "labels"),
        ({"store_name": "Shop", "labels": ["camera", "camera"]}, "labels"),
        ({"store_name": "Shop", "description": "x" * 2001}, "description"),
        ({"store_name": "Shop", "owner": "me"}, "owner"),
    ]
    for body, field in cases:
        response = call(client, "PUT", "/merchants/me", merchant, body)
        assert response.status_code == 400, body
        assert field in response.data["Message"], (body, response.data)


def test_unknown_merchant_is_404(client, users):
    assert call(client, "GET", "/merchants/nobody", users()).status_code == 404
    assert call(client, "GET", "/merchants/me", users()).status_code == 404


# -- scores and their refusals ---------------------------------------------------------------------

def test_a_judge_scores_a_store_and_a_later_score_replaces_it(client, store, judges):
    first = rate(client, judges[0], store, 72, "Good packaging")
    assert first.status_code == 200, first.data
    assert first.data["score"] == 72 and first.data["comment"] == "Good packaging"
    assert first.data["judge_id"] == judges[0].user_id and first.data["merchant_id"] == store.user_id
    second = rate(client, judges[0], store, 85)
    assert second.status_code == 200
    assert second.data["score"] == 85 and second.data["comment"] is None


def test_only_judges_may_score(client, store, users):
    shopper = users("shopper")
    merchant = users("other-merchant", groups=("merchants",))
    assert rate(client, shopper, store, 90).status_code == 403
    assert rate(client, merchant, store, 90).status_code == 403


def test_a_judge_cannot_score_their_own_store(client, users):
    # Given a judge who also runs a store
    judge = users("judging-merchant", groups=("merchants", "judges"))
    call(client, "PUT", "/merchants/me", judge, {"store_name": "Mine"})
    # When they score it, Then they are refused
    response = rate(client, judge, judge, 100)
    assert response.status_code == 403
    assert response.data["Code"] == "OwnStore"


def test_scoring_an_unknown_store_is_404(client, users, judges):
    shopper = users("shopper")  # a user, but no store
    call(client, "GET", "/me", shopper)
    assert rate(client, judges[0], shopper, 80).status_code == 404
    assert call(client, "PUT", "/merchants/nobody/ratings/me", judges[0], {"score": 80}).status_code == 404


def test_scores_must_be_whole_numbers_from_0_to_100(client, store, judges):
    cases = [{}, {"score": 101}, {"score": -1}, {"score": 90.5}, {"score": "90"}, {"score": True},
             {"score": 90, "comment": ""}, {"score": 90, "comment": "x" * 2001}, {"score": 90, "extra": 1}]
    for body in cases:
        response = call(client, "PUT", f"/merchants/{store.user_id}/ratings/me", judges[0], body)
        assert response.status_code == 400, body
    assert rate(client, judges[0], store, 0).status_code == 200
    assert rate(client, judges[0], store, 100).status_code == 200


# -- tiers through the ratings stream --------------------------------------------------------------

def test_two_scores_give_no_tier_and_a_third_sets_it(client, store, judges, streams):
    # Given two judges' scores
    rate(client, judges[0], store, 92)
    rate(client, judges[1], store, 95)
    streams.drain()
    # Then the store is counted but not rated
    assert standing(client, store) == (None, None, 2, None)
    assert tier_notices(client, store) == []
    # When a third judge scores
    rate(client, judges[2], store, 90)
    streams.drain()
    # Then the mean (92.33) makes it Platinum, and the merchant is told
    assert standing(client, store) == ("platinum", "tier-platinum", 3, 92.33)
    notices = tier_notices(client, store)
    assert len(notices) == 1
    assert notices[0]["tier"] == "platinum" and notices[0]["badge"] == "tier-platinum"
    assert notices[0]["previous_tier"] is None


def test_a_changed_score_moves_the_tier(client, store, judges, streams):
    for judge, score in zip(judges, (85, 85, 80), strict=False):
        rate(client, judge, store, score)
    streams.drain()
    assert standing(client, store)[:2] == ("gold", "tier-gold")
    # When one judge lowers their score
    rate(client, judges[0], store, 40)
    streams.drain()
    # Then the mean (68.33) drops the store to Bronze, and it is told so
    assert standing(client, store) == ("bronze", "tier-bronze", 3, 68.33)
    notices = tier_notices(client, store)
    assert [n["tier"] for n in notices] == ["bronze", "gold"]  # newest first
    assert notices[0]["previous_tier"] == "gold"


def test_the_tier_shows_on_the_merchants_profile(client, store, judges, streams, users):
    for judge in judges[:3]:
        rate(client, judge, store, 75)
    streams.drain()
    profile = call(client, "GET", f"/users/{store.user_id}", users()).data
    assert profile["merchant"] == {"store_name": "Lens Corner", "tier": "silver", "badge": "tier-silver"}


def test_a_score_that_moves_no_tier_sends_no_notice(client, store, judges, streams):
    for judge in judges[:3]:
        rate(client, judge, store, 75)
    streams.drain()
    rate(client, judges[3], store, 72)
    rate(client, judges[0], store, 76)
    streams.drain()
    assert standing(client, store) == ("silver", "tier-silver", 4, 74.5)
    assert len(tier_notices(client, store)) == 1


def test_a_store_below_bronze_has_no_tier(client, store, judges, streams):
    for judge in judges[:3]:
        rate(client, judge, store, 50)
    streams.drain()
    assert standing(client, store) == (None, None, 3, 50)
    assert tier_notices(client, store) == []


def test_replaying_the_ratings_stream_changes_nothing(client, store, judges, chaos_streams):
    # Given scores written and changed, every batch delivered twice and split at random
    for judge, score in zip(judges, (95, 90, 91, 60), strict=True):
        rate(client, judge, store, score)
    chaos_streams.drain()
    rate(client, judges[3], store, 96)
    rate(client, judges[0], store, 20)
    chaos_streams.drain()
    # Then the standing is what the scores say: (20 + 90 + 91 + 96) / 4 = 74.25
    assert standing(client, store) == ("silver", "tier-silver", 4, 74.25)
    # And each tier move was announced exactly once
    notices = tier_notices(client, store)
    assert [n["tier"] for n in notices] == ["silver", "gold"]
    assert chaos_streams.set_aside == []


def test_replaying_a_record_again_later_changes_nothing(client, store, judges, streams):
    from chalicelib.services.ratings import refresh_standing

    for judge in judges[:3]:
        rate(client, judge, store, 88)
    streams.drain()
    before = call(client, "GET", f"/merchants/{store.user_id}", store).data
    # When the panel's standing is recomputed again (as a late redelivery would)
    assert refresh_standing(store.user_id) is False
    # Then nothing changed
    assert call(client, "GET", f"/merchants/{store.user_id}", store).data == before


def test_a_recompute_overtaken_by_a_newer_score_steps_aside(client, store, judges, streams, monkeypatch):
    """Two records racing: the one that read the scores before a newer score landed must not win."""
    from chalicelib.models.merchants import Rating
    from chalicelib.services import ratings

    for judge in judges[:3]:
        rate(client, judge, store, 90)
    streams.drain()
    assert standing(client, store)[0] == "platinum"
    # Given a recompute that reads the scores, and then (before it writes) a fourth judge's score lands
    real_query = Rating.query

    def query_then_score_lands(*args, **kwargs):
        results = list(real_query(*args, **kwargs))
        monkeypatch.setattr(Rating, "query", real_query)
        assert rate(client, judges[3], store, 10).status_code == 200
        return results

    monkeypatch.setattr(Rating, "query", query_then_score_lands)
    rate(client, judges[0], store, 80)  # the record whose recompute is overtaken (mean 86.67 without the 10)
    # When the stale recompute tries to write
    assert ratings.refresh_standing(store.user_id) is False
    # Then it stepped aside, and the newer score's record brings the right mean: (80 + 90 + 90 + 10) / 4
    streams.drain()
    assert standing(client, store) == ("bronze", "tier-bronze", 4, 67.5)


def test_the_tier_shows_on_the_stores_products(client, store, judges, streams, users):
    # Given a product of the store, and the store rated Gold
    created = call(client, "POST", "/products", store, {"title": "Lens", "price_cents": 900, "labels": ["camera"]})
    assert created.status_code == 201, created.data
    assert created.data["merchant"] == {"store_name": "Lens Corner", "tier": None, "badge": None}
    for judge in judges[:3]:
        rate(client, judge, store, 84)
    streams.drain()
    # Then the product, alone or in the store's list, carries the store's tier and badge
    shopper = users()
    expected = {"store_name": "Lens Corner", "tier": "gold", "badge": "tier-gold"}
    assert call(client, "GET", f"/products/{created.data['product_id']}", shopper).data["merchant"] == expected
    listed = call(client, "GET", f"/merchants/{store.user_id}/products", shopper).data["items"]
    assert [item["merchant"] for item in listed] == [expected]


def test_a_merchants_tier_shows_in_their_posts_author_block(client, users, streams):
    # Given a merchant with a store rated Gold by three judges
    merchant = users("store", groups=("merchants",))
    call(client, "GET", "/me", merchant)
    assert call(client, "PUT", "/merchants/me", merchant,
                {"store_name": "Sea Shop", "description": "fish", "labels": ["seafood"]}).status_code == 200
    for score in (80, 85, 90):
        judge = users("judge", groups=("judges",))
        rating = call(client, "PUT", f"/merchants/{merchant.user_id}/ratings/me", judge, {"score": score})
        assert rating.status_code == 200
    streams.drain()
    # When the merchant posts and a shopper reads it
    post = call(client, "POST", "/posts", merchant, {"text": "Fresh crabs today"}).data
    shopper = users()
    shown = call(client, "GET", f"/posts/{post['post_id']}", shopper).data
    # Then the author block carries the store's tier and badge
    assert shown["author"]["merchant"] == {"store_name": "Sea Shop", "tier": "gold", "badge": "tier-gold"}
