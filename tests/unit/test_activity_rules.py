"""The rules of activity sharing, from plain values: switches, ids, what each source shares, who sees what."""

from __future__ import annotations

import pytest

from chalicelib.domain import activity as rules
from chalicelib.domain.changes import inserted, modified, removed
from chalicelib.domain.ids import id_time_ms

REVIEW = {"review_id": "R1", "product_id": "P1", "author_id": "alice", "merchant_id": "shop",
          "created_at": "2026-11-30T01:02:03.000Z"}


def test_every_kind_is_off_until_chosen_and_only_on_to_off_withdraws():
    assert rules.sharing_view(None) == {kind: False for kind in rules.KINDS}
    assert rules.sharing_view({"review": True, "other": True}) == {**rules.sharing_view(None), "review": True}
    assert rules.turned_off({"review": True, "answer": True}, {"review": False, "answer": True}) == ["review"]
    assert rules.turned_off({"review": False}, {"review": True}) == []
    assert rules.turned_off(None, {"review": False}) == []


def test_an_activity_id_comes_from_its_source_and_sorts_by_the_source_time():
    first = rules.from_review(REVIEW)
    assert first is not None
    again = rules.from_review(dict(REVIEW))
    assert again is not None and again.activity_id == first.activity_id
    other = rules.from_review({**REVIEW, "review_id": "R2"})
    assert other is not None and other.activity_id != first.activity_id
    assert id_time_ms(first.activity_id) == rules.parse_time_ms(REVIEW["created_at"])
    assert first.activity_id < rules.ACTIVITIES_UPPER_BOUND < rules.SETTINGS_KEY


def test_each_source_names_its_user_and_what_it_shares():
    assert rules.from_review({"review_id": "guard", "guarded_review_id": "R1"}) is None  # the one-review guard
    wish = rules.from_wishlist({"user_id": "alice", "product_id": "P1", "merchant_id": "shop",
                                "added_at": "2026-11-30T00:00:00.000Z"})
    assert (wish.user_id, wish.type, wish.product_id, wish.merchant_id) == ("alice", "wishlist_add", "P1", "shop")
    readded = rules.from_wishlist({"user_id": "alice", "product_id": "P1", "added_at": "2026-11-30T00:00:01.000Z"})
    assert readded.activity_id != wish.activity_id  # removed and added again: a new activity
    answer = rules.from_answer({"answer_id": "A1", "author_id": "bob", "question_id": "Q1", "question_title": "Which?",
                                "created_at": "2026-11-30T00:00:00.000Z"})
    assert (answer.user_id, answer.question_id, answer.question_title) == ("bob", "Q1", "Which?")
    store = rules.from_follow({"follower_id": "bob", "followee_id": "shop", "created_at": "2026-11-30T00:00:00.000Z"})
    assert (store.user_id, store.type, store.merchant_id) == ("bob", "store_follow", "shop")
    coupon = rules.from_coupon({"coupon_code": "C1", "owner_id": "bob", "campaign_id": "K1", "merchant_id": "shop",
                                "title": "10 off", "issued_at": "2026-11-30T00:00:00.000Z"})
    assert (coupon.campaign_id, coupon.campaign_title, coupon.merchant_id) == ("K1", "10 off", "shop")


def test_only_users_with_the_kind_on_share():
    alice = rules.from_review(REVIEW)
    bob = rules.from_review({**REVIEW, "review_id": "R2", "author_id": "bob"})
    carol = rules.from_review({**REVIEW, "review_id": "R3", "author_id": "carol"})
    assert alice and bob and carol
    settings = {"alice": {"review": True}, "bob": {"review": False, "answer": True}, "carol": None}
    assert rules.worth_sharing([alice, bob, carol], settings) == [alice]


@pytest.mark.parametrize(("visibility", "owner", "follows", "blocked", "seen"), [
    ("public", False, False, False, True),
    ("public", False, True, True, False),  # a block hides even a public list, either direction
    ("followers", False, True, False, True),
    ("followers", False, False, False, False),
    ("private", False, True, False, False),
    ("private", True, False, False, True),
])
def test_who_may_see_a_wishlist(visibility, owner, follows, blocked, seen):
    assert rules.may_see_wishlist(visibility, is_owner=owner, follows_owner=follows, blocked=blocked) is seen


def test_a_private_wishlist_hides_its_adds_from_followers_and_unknown_visibility_is_public():
    assert not rules.shown_to_follower("wishlist_add", "private")
    assert rules.shown_to_follower("wishlist_add", "followers")
    assert rules.shown_to_follower("review", "private")
    assert rules.visibility_of(None) == rules.visibility_of({"wishlist_visibility": "odd"}) == "public"


# -- what the Activities stream effects decide ------------------------------------------------------------
ACTIVITY = {"user_id": "alice", "activity_id": "01J0000000AAAAAAAAAAAAAAAA", "type": "review",
            "created_at": "2026-11-30T00:00:00.000Z", "shared_at": "2026-11-30T00:00:01.000Z"}
SETTINGS = {"user_id": "alice", "activity_id": rules.SETTINGS_KEY, "review": True, "answer": True, "version": 3}


def test_a_withdrawal_is_a_mark_or_a_removal_of_a_shared_activity_never_a_tombstones_expiry():
    from chalicelib.services.activity import newly_withdrawn

    marked = {**ACTIVITY, "withdrawn_at": "2026-11-30T00:01:00.000Z"}
    assert newly_withdrawn(modified("Activities", ACTIVITY, marked)) == marked
    assert newly_withdrawn(modified("Activities", marked, {**marked, "expires_at": 1})) is None
    assert newly_withdrawn(removed("Activities", ACTIVITY)) == ACTIVITY  # erased while shared
    assert newly_withdrawn(removed("Activities", marked)) is None  # the tombstone expiring
    assert newly_withdrawn(inserted("Activities", ACTIVITY)) is None
    assert newly_withdrawn(modified("Activities", SETTINGS, {**SETTINGS, "review": False})) is None


def test_turning_kinds_off_names_the_user_the_kinds_and_the_settings_version():
    from chalicelib.services.activity import kinds_turned_off

    off = modified("Activities", SETTINGS, {**SETTINGS, "review": False, "answer": False, "version": 4})
    assert kinds_turned_off(off) == ("alice", ["review", "answer"], 4)
    assert kinds_turned_off(modified("Activities", SETTINGS, {**SETTINGS, "store_follow": True})) is None
    assert kinds_turned_off(inserted("Activities", SETTINGS)) is None
    assert kinds_turned_off(modified("Activities", ACTIVITY, {**ACTIVITY, "withdrawn_at": "x"})) is None
