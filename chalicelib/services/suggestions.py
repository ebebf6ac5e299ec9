"""Who to follow: experts and rated stores of the caller's labels (SPEC "Discovery").

The caller's labels are the ones on their profile (`PUT /me {labels}`, what they said they shop
for), then the labels they have reached an expert level in (kept on the profile by the experts
handler): both come with the one profile read. The first `MAX_LABELS` count. A caller with neither
gets the rated stores of the whole directory ("*"): there is no expert leaderboard across labels.

Calls, bounded whatever the data (bench `operations`: suggestions):
1. one GetItem of the caller's profile (the labels);
2. per label, in parallel: one Query per leaderboard shard (4) and one of the label's store directory
   (rated stores only: the directory sorts by tier) - 10 Queries for two labels;
3. one BatchGetItem of everything that decides and shows the best `MAX_CANDIDATES` candidates: the
   caller's follows of them, blocks both ways, their profiles and stores.
So at most 12 calls. Experts come best first by level then score, stores by tier (then newest),
interleaved expert, store, expert...; the caller, people they follow and blocks either way are left out.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from chalicelib.auth import Caller
from chalicelib.errors import BadRequest
from chalicelib.pagination import Page, PageRequest

MAX_LABELS = 2
PER_SOURCE = 10  # read from each leaderboard shard and each directory list
MAX_CANDIDATES = 20  # 5 keys each: one BatchGetItem of 100 keys


@dataclass(frozen=True)
class Candidate:
    user_id: str
    reason: str  # expert | store
    label: str
    score: int | None = None
    level: int | None = None
    rank: str = ""  # a store's directory sort key: tier rank, then newest



def _expert_shard(label: str, key: str) -> list[Candidate]:
    from chalicelib.models.points import ExpertScore

    rows = ExpertScore.leaderboard.query(key, ExpertScore.score > 0, scan_index_forward=False, limit=PER_SOURCE)
    return [Candidate(row.user_id, "expert", label, int(row.score), int(row.level or 0)) for row in rows]


def _stores(label: str | None) -> list[Candidate]:
    from chalicelib.domain.label_lists import store_list_key
    from chalicelib.models.merchants import StoreListing

    # the directory's sort key starts with the tier rank (0 unrated): "1" and above are rated stores
    entries = StoreListing.query(store_list_key(label), StoreListing.item_id >= "1", scan_index_forward=False,
                                 limit=PER_SOURCE)
    return [Candidate(entry.merchant_id, "store", label or "*", rank=entry.item_id) for entry in entries]


def _read_sources(labels: list[str]) -> list[list[Candidate]]:
    """Every Query at once (one thread each): the page costs the slowest Query, not the sum."""
    from chalicelib.domain.leaderboards import leaderboard_partitions
    from chalicelib.models.merchants import StoreListing
    from chalicelib.models.points import ExpertScore

    jobs: list[Callable[[], list[Candidate]]] = [
        functools.partial(_expert_shard, label, key) for label in labels for key in leaderboard_partitions(label)]
    jobs += [functools.partial(_stores, label) for label in labels] if labels else [functools.partial(_stores, None)]
    ExpertScore._get_connection()  # created once here, not raced for by the threads
    StoreListing._get_connection()
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="suggest") as pool:
        return list(pool.map(lambda job: job(), jobs))


def caller_labels(profile) -> list[str]:
    """The labels the caller shops for (their profile's, in their order), then those they are an
    expert in (kept on the profile too: no extra read), highest level first; the first `MAX_LABELS`."""
    from chalicelib.domain.points import reached_levels

    if profile is None:
        return []
    chosen = [str(label) for label in profile.labels or []]
    levels = reached_levels(profile.expert_levels or ())
    chosen += sorted(levels, key=lambda label: (-levels[label], label))
    return list(dict.fromkeys(chosen))[:MAX_LABELS]


def _interleave(caller_id: str, experts: list[Candidate], stores: list[Candidate]) -> list[Candidate]:
    ordered: list[Candidate] = []
    seen = {caller_id}
    for index in range(max(len(experts), len(stores))):
        for source in (experts, stores):
            if index < len(source) and source[index].user_id not in seen:
                seen.add(source[index].user_id)
                ordered.append(source[index])
    return ordered


def suggest_follows(caller: Caller, page: PageRequest) -> Page:
    from chalicelib.models.base import batch_get, get_or_none
    from chalicelib.models.graph import Block, Follow
    from chalicelib.models.users import UserProfile
    from chalicelib.services.cards import CardRead
    from chalicelib.services.merchants import merchant_view

    if page.position is not None:
        raise BadRequest("cursor: suggestions are one page (next_cursor is always null)")
    profile = get_or_none(UserProfile, caller.user_id)
    labels = caller_labels(profile)
    reads = _read_sources(labels)
    experts = sorted((c for read in reads for c in read if c.reason == "expert"),
                     key=lambda c: (-(c.level or 0), -(c.score or 0), c.user_id))
    stores = sorted((c for read in reads for c in read if c.reason == "store"), key=lambda c: c.rank, reverse=True)
    candidates = _interleave(caller.user_id, experts, stores)[:MAX_CANDIDATES]
    if not candidates:
        return Page(items=[], next_cursor=None)
    ids = [c.user_id for c in candidates]
    read = CardRead(user_ids=ids)
    relation_keys = ([(Follow, caller.user_id, uid) for uid in ids] + [(Block, caller.user_id, uid) for uid in ids]
                     + [(Block, uid, caller.user_id) for uid in ids])
    found = batch_get(relation_keys + read.keys())
    n = len(ids)
    follows, blocks, blocked_by = found[:n], found[n:2 * n], found[2 * n:3 * n]
    cards = read.build(found[3 * n:])
    items = []
    for index, candidate in enumerate(candidates):
        if follows[index] is not None or blocks[index] is not None or blocked_by[index] is not None:
            continue
        card = cards.users[candidate.user_id]
        if card.user_id is None:
            continue  # an erased account
        store = cards.stores.get(candidate.user_id)
        if candidate.reason == "store" and (store is None or not store.tier):
            continue  # the directory trails a tier change by seconds
        items.append({
            "user_id": candidate.user_id, "reason": candidate.reason, "label": candidate.label,
            "score": candidate.score, "level": candidate.level,
            "tier": store.tier if candidate.reason == "store" and store is not None else None,
            "user": card,
            "store": merchant_view(store) if candidate.reason == "store" and store is not None else None,
        })
        if len(items) == page.limit:
            break
    return Page(items=items, next_cursor=None)
