"""The panel's rules: scores to tier and badge, and the Good Finds order."""

import pytest

from chalicelib.domain.tiers import (
    ALL_LABELS,
    badge_for,
    good_find_labels,
    good_find_rank_key,
    merge_ranked,
    possible_rank_keys,
    standing_from_scores,
    tier_rank,
)


def test_fewer_than_three_judges_leave_a_store_unrated():
    for scores in ([], [95], [95, 100]):
        standing = standing_from_scores(scores)
        assert standing.tier is None and standing.badge is None and standing.mean_score is None
        assert standing.judge_count == len(scores)


@pytest.mark.parametrize(
    ("scores", "tier"),
    [
        ([90, 90, 90], "platinum"),
        ([100, 100, 100], "platinum"),
        ([89, 90, 90], "gold"),  # mean 89.67
        ([80, 80, 80], "gold"),
        ([79, 80, 80], "silver"),
        ([70, 70, 70], "silver"),
        ([60, 60, 60], "bronze"),
        ([59, 60, 60], None),
        ([0, 0, 0], None),
        ([100, 100, 40], "gold"),  # 240 / 3 is exactly 80: thresholds are inclusive
    ],
)
def test_the_mean_places_a_store_in_a_tier(scores, tier):
    standing = standing_from_scores(scores)
    assert standing.tier == tier
    assert standing.badge == (f"tier-{tier}" if tier else None)


def test_thresholds_compare_the_exact_mean_not_a_rounded_one():
    # 269 / 3 = 89.666..., shown as 89.67, is still Gold
    standing = standing_from_scores([89, 90, 90])
    assert standing.mean_score == 89.67
    assert standing.tier == "gold"
    # 539 / 6 = 89.83 is Gold; 540 / 6 = 90 is Platinum
    assert standing_from_scores([90, 90, 90, 90, 90, 89]).tier == "gold"
    assert standing_from_scores([90] * 6).tier == "platinum"


def test_a_rated_store_below_bronze_keeps_its_mean_but_no_badge():
    standing = standing_from_scores([10, 20, 30])
    assert standing.mean_score == 20
    assert standing.tier is None and standing.badge is None


def test_scores_out_of_range_are_refused():
    with pytest.raises(ValueError):
        standing_from_scores([50, 101, 50])
    with pytest.raises(ValueError):
        standing_from_scores([50, -1, 50])


def test_badges_and_ranks():
    assert [badge_for(t) for t in ("platinum", "gold", "silver", "bronze", None)] == [
        "tier-platinum", "tier-gold", "tier-silver", "tier-bronze", None,
    ]
    assert tier_rank("platinum") > tier_rank("gold") > tier_rank("silver") > tier_rank("bronze") > tier_rank(None)


def test_rank_keys_sort_higher_tier_first_then_newest():
    keys = [
        good_find_rank_key("gold", "2024-01-01T00:00:00.000Z", "A"),
        good_find_rank_key("platinum", "2023-01-01T00:00:00.000Z", "B"),
        good_find_rank_key("gold", "2024-06-01T00:00:00.000Z", "C"),
        good_find_rank_key("bronze", "2025-01-01T00:00:00.000Z", "D"),
    ]
    assert [key[-1] for key in sorted(keys, reverse=True)] == ["B", "C", "A", "D"]
    with pytest.raises(ValueError):
        good_find_rank_key(None, "2024-01-01T00:00:00.000Z", "A")


def test_a_product_is_listed_under_each_label_and_all():
    assert good_find_labels(["camera", "phone", "camera"]) == [ALL_LABELS, "camera", "phone"]
    assert good_find_labels([]) == [ALL_LABELS]
    assert len(set(possible_rank_keys("2024-01-01T00:00:00.000Z", "P"))) == 4


def _entry(rank_key, product_id):
    return {"rank_key": rank_key, "product_id": product_id}


def test_merging_labels_dedupes_products_and_says_whether_more_remain():
    camera = [_entry("4#b#P1", "P1"), _entry("3#c#P2", "P2"), _entry("2#a#P4", "P4")]
    phone = [_entry("4#b#P1", "P1"), _entry("3#a#P3", "P3")]
    page, more = merge_ranked([camera, phone], limit=3)
    assert [e["product_id"] for e in page] == ["P1", "P2", "P3"]
    assert more is True
    page, more = merge_ranked([camera, phone], limit=4)
    assert [e["product_id"] for e in page] == ["P1", "P2", "P3", "P4"]
    assert more is False


def test_merging_keeps_entries_of_one_product_at_different_tiers_for_the_reader_to_judge():
    page, more = merge_ranked([[_entry("3#x#P1", "P1")], [_entry("2#x#P1", "P1")]], limit=5)
    assert page == [_entry("3#x#P1", "P1"), _entry("2#x#P1", "P1")] and more is False


def test_a_good_finds_key_tells_the_tier_it_was_written_at():
    from chalicelib.domain.tiers import good_find_rank_key, rank_of_key, tier_rank

    for tier in ("platinum", "gold", "silver", "bronze"):
        assert rank_of_key(good_find_rank_key(tier, "2026-11-11T00:00:00.000Z", "P1")) == tier_rank(tier)
