"""The keys of the store directory and the product lists by label (both in the LabelIndex table)."""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.domain.sharded_lists import shard_key, shard_of
from chalicelib.domain.tiers import tier_rank

ALL = "*"
# Products are listed under each label and "*". A catalogue import (a big store listing thousands of
# items for a sale) can write well over 1,000 products a second platform-wide, all into the "*"
# partition: so product lists are sharded like the question lists, and a page reads 4 shards.
PRODUCT_LIST_SHARDS = 4


def product_list_key(label: str | None, shard: int) -> str:
    return shard_key(f"product#{label or ALL}", shard)


def product_list_partitions(label: str | None) -> list[str]:
    return [product_list_key(label, shard) for shard in range(PRODUCT_LIST_SHARDS)]


def product_list_keys(product_id: str, labels: Sequence[str]) -> set[str]:
    """The partitions a product is listed in: its shard of each of its labels, and of "*"."""
    shard = shard_of(product_id, PRODUCT_LIST_SHARDS)
    return {product_list_key(label, shard) for label in labels} | {product_list_key(None, shard)}


def store_list_key(label: str | None) -> str:
    return f"store#{label or ALL}"


def store_rank(tier: str | None, created_at: str, merchant_id: str) -> str:
    """Sorts (descending) by tier (rated first, highest first), then newest."""
    return f"{tier_rank(tier)}#{created_at}#{merchant_id}"


def tier_prefix(tier: str | None) -> str:
    return f"{tier_rank(tier)}#"


def store_entries(merchant_id: str, store_name: str | None, labels: Sequence[str], tier: str | None,
                  created_at: str | None) -> set[tuple[str, str]]:
    """(label_key, item_id) of every directory entry a store has: none until it has a name."""
    if not store_name:
        return set()
    rank = store_rank(tier, created_at or "", merchant_id)
    return {(store_list_key(label), rank) for label in labels} | {(store_list_key(None), rank)}
