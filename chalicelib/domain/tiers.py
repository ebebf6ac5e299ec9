"""The judges' panel: from scores to a merchant's tier and badge, and how Good Finds are ordered.

A merchant is rated once at least `MIN_JUDGES` judges have scored it; the mean of their scores
places it in a tier. Thresholds are compared on the exact sum (`sum >= threshold * count`), so a
mean of 89.999... is Gold, never a rounding accident's Platinum.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

MIN_JUDGES = 3
MIN_SCORE, MAX_SCORE = 0, 100

# Highest first: (tier, minimum mean, rank). The rank orders Good Finds (higher tier first).
TIERS: tuple[tuple[str, int, int], ...] = (
    ("platinum", 90, 4),
    ("gold", 80, 3),
    ("silver", 70, 2),
    ("bronze", 60, 1),
)
TIER_NAMES = tuple(name for name, _, _ in TIERS)
ALL_LABELS = "*"  # the Good Finds partition holding every product, for callers without labels


@dataclass(frozen=True)
class Standing:
    """What the panel's scores say about a merchant right now."""

    judge_count: int
    mean_score: float | None  # rounded to 2 places for display; None until rated
    tier: str | None
    badge: str | None

    @property
    def rated(self) -> bool:
        return self.tier is not None or self.mean_score is not None


def badge_for(tier: str | None) -> str | None:
    return f"tier-{tier}" if tier else None


def tier_rank(tier: str | None) -> int:
    """4 for Platinum down to 1 for Bronze; 0 without a tier."""
    for name, _, rank in TIERS:
        if name == tier:
            return rank
    return 0


def tier_for(total: int, count: int) -> str | None:
    if count < MIN_JUDGES:
        return None
    for name, threshold, _ in TIERS:
        if total >= threshold * count:
            return name
    return None


def standing_from_scores(scores: Iterable[int]) -> Standing:
    values = [int(score) for score in scores]
    for value in values:
        if not MIN_SCORE <= value <= MAX_SCORE:
            raise ValueError(f"score {value} is outside {MIN_SCORE}-{MAX_SCORE}")
    count, total = len(values), sum(values)
    if count < MIN_JUDGES:
        return Standing(judge_count=count, mean_score=None, tier=None, badge=None)
    tier = tier_for(total, count)
    return Standing(judge_count=count, mean_score=round(total / count, 2), tier=tier, badge=badge_for(tier))


def good_find_rank_key(tier: str, created_at: str, product_id: str) -> str:
    """The Good Finds sort key: read in descending order it gives higher tier first, then newest.

    The product id at the end makes the key unique per product (and the same in every label
    partition), so one key is enough to resume a merged listing.
    """
    rank = tier_rank(tier)
    if rank == 0:
        raise ValueError("only products of rated merchants are Good Finds")
    return f"{rank}#{created_at}#{product_id}"


def possible_rank_keys(created_at: str, product_id: str) -> Iterator[str]:
    """Every key a product's entries can have, whatever tier its merchant had when indexed."""
    for name in TIER_NAMES:
        yield good_find_rank_key(name, created_at, product_id)


def good_find_labels(product_labels: Iterable[str]) -> list[str]:
    """The partitions a product is listed under: each of its labels, and the all-products one."""
    labels = [ALL_LABELS]
    for label in product_labels:
        if label not in labels:
            labels.append(label)
    return labels


def merge_ranked(streams: Iterable[Iterable[dict[str, Any]]], limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Merge Good Finds entries, each list sorted by `rank_key` descending, into one page.

    A product listed under several of the caller's labels has the same key in each and appears
    once. (An entry a race left at an old tier has another key; the reader drops it by checking
    the store's tier, so it is not confused with the product's true entry here.)
    Returns at most `limit` entries and whether more remain beyond them.
    """
    keys = sorted({entry["rank_key"]: entry for stream in streams for entry in stream}.items(), reverse=True)
    return [entry for _, entry in keys[:limit]], len(keys) > limit
