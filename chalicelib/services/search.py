"""Search: the word-prefix index kept from five streams, and a page of hits (`domain.search`).

Keeping the index (stream effects, one per source table): each reads the item as it is now
(consistently) and makes its entries match it, as the label lists do: entries of the record's old
name that the item no longer wants are deleted, the wanted ones put. So a replayed or late record
rewrites the current state, never an old one, and an item that is gone, or carries `removed_at`
(moderation), has no entries; its restore (the attribute dropped) puts them back. A suspended user
stays searchable. Records that touch neither the name nor `removed_at` (counts, tiers) write nothing.

A page: the plan's prefix partition(s) (one Query each; two for products, in parallel), entries
filtered by every query word, then ONE BatchGetItem of the page's items and their cards. At most
3 calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chalicelib.auth import Caller
from chalicelib.domain.changes import MODIFY, Change
from chalicelib.domain.names import default_display_name
from chalicelib.domain.search import QueryError, SearchPlan, entry_keys, partitions, plan, stored_words
from chalicelib.errors import BadRequest
from chalicelib.pagination import Page, PageRequest

REMOVED_AT = "removed_at"  # set by moderation on removed content, dropped on restore
READ_FACTOR = 3  # a shard is asked for this many entries per page item: some fail the other words


@dataclass(frozen=True)
class Source:
    """One searchable table: its type, id and name attributes, and what its entries keep."""

    kind: str
    logical_table: str
    id_attr: str
    name_attr: str
    kept: tuple[str, ...] = ()  # copied onto every entry (for the page's one BatchGetItem)
    model: Callable[[], Any] = field(default=lambda: None, compare=False)
    placeholder: Callable[[str], str] | None = field(default=None, compare=False)

    def names_it(self, item_id: str, name: str) -> bool:
        """A placeholder name ("shopper-1a2b3c4d", until a user names themselves) is not indexed: every
        sign-up would write the same "shopper" prefixes (a hot partition), and it finds no one."""
        return self.placeholder is None or name != self.placeholder(item_id)


def _users():
    from chalicelib.models.users import UserProfile
    return UserProfile


def _merchants():
    from chalicelib.models.merchants import Merchant
    return Merchant


def _products():
    from chalicelib.models.advice import Product
    return Product


def _questions():
    from chalicelib.models.advice import Question
    return Question


def _groups():
    from chalicelib.models.groups import Group
    return Group


SOURCES = {
    "user": Source("user", "Users", "user_id", "display_name", model=_users, placeholder=default_display_name),
    "store": Source("store", "Merchants", "merchant_id", "store_name", model=_merchants),
    "product": Source("product", "Products", "product_id", "title", ("merchant_id",), model=_products),
    "question": Source("question", "Questions", "question_id", "title", ("asker_id", "product_merchants"),
                       model=_questions),
    "circle": Source("circle", "Groups", "group_id", "name", model=_groups),
}


# -- keeping the index ------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def current_image(model, hash_key: str) -> dict | None:
    """The item as it is now, every attribute (moderation's `removed_at` too, which the models do not
    declare), from one consistent GetItem; None when there is none."""
    from boto3.dynamodb.types import TypeDeserializer

    raw = model._get_connection().get_item(hash_key, consistent_read=True)
    item = raw.get("Item") if raw else None
    if not item:
        return None
    deserializer = TypeDeserializer()
    return {name: _plain(deserializer.deserialize(value)) for name, value in item.items()}


def searchable(image: dict | None) -> bool:
    return image is not None and REMOVED_AT not in image


def wanted_entries(source: Source, item_id: str, image: dict | None) -> dict[str, dict]:
    """{partition key: the entry's attributes} an item should have in the index now."""
    if not searchable(image):
        return {}
    assert image is not None
    name = image.get(source.name_attr)
    if not isinstance(name, str) or not name or not source.names_it(item_id, name):
        return {}
    attributes: dict[str, Any] = {"words": stored_words(name)}
    for kept in source.kept:
        if image.get(kept):
            attributes[kept] = image[kept]
    return {key: attributes for key in entry_keys(source.kind, item_id, name)}


def reindex(source: Source, change: Change) -> tuple[int, int]:
    """Make one item's entries match the item as it is now; returns (entries put, entries deleted)."""
    from chalicelib.models.search import SearchEntry

    if change.kind == MODIFY and not change.changed(source.name_attr, REMOVED_AT, *source.kept):
        return 0, 0
    if not (change.old or {}).get(source.name_attr) and not (change.new or {}).get(source.name_attr):
        return 0, 0  # a nameless item (a store not yet opened) neither had nor has entries
    item_id = str(change.keys.get(source.id_attr) or change.item[source.id_attr])
    wanted = wanted_entries(source, item_id, current_image(source.model(), item_id))
    old_name = (change.old or {}).get(source.name_attr)
    if not isinstance(old_name, str) or not source.names_it(item_id, old_name):
        old_name = None  # it had no entries
    stale = entry_keys(source.kind, item_id, old_name) - set(wanted)
    with SearchEntry.batch_write() as batch:
        for key in sorted(stale):
            batch.delete(SearchEntry(key, item_id))
        for key, attributes in sorted(wanted.items()):
            batch.save(SearchEntry(key, item_id, **attributes))
    return len(wanted), len(stale)


def index_user(change: Change) -> None:
    """Users stream: a person is found by their display name; an erased profile leaves the index."""
    reindex(SOURCES["user"], change)


def index_store(change: Change) -> None:
    """Merchants stream: a store is found by its name."""
    reindex(SOURCES["store"], change)


def index_product(change: Change) -> None:
    """Products stream: a product is found by its title."""
    reindex(SOURCES["product"], change)


def index_question(change: Change) -> None:
    """Questions stream: a question is found by its title."""
    reindex(SOURCES["question"], change)


def index_circle(change: Change) -> None:
    """Groups stream: a circle is found by its name."""
    reindex(SOURCES["circle"], change)


# -- a page -----------------------------------------------------------------------------------------
class _Filtered:
    """A shard's Query with the entries that fail the other query words left out (the shard's
    position still moves past them: `last_evaluated_key` is the Query's)."""

    def __init__(self, results, keep: Callable[[Any], bool]) -> None:
        self.items = [entry for entry in results if keep(entry)]
        self.last_evaluated_key = results.last_evaluated_key

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)


def _search_plan(q: str | None, kind: str | None) -> SearchPlan:
    try:
        searched = plan(q)
    except QueryError as error:
        raise BadRequest(str(error)) from None
    if kind not in SOURCES:
        raise BadRequest(f"type: one of {', '.join(SOURCES)}")
    return searched


def matching_entries(searched: SearchPlan, kind: str, page: PageRequest) -> tuple[list, str | None]:
    """The page's entries (newest item first) and the next cursor: one Query per shard of the plan's
    prefix, in parallel (`models.sharded`)."""
    from chalicelib.models.search import SearchEntry
    from chalicelib.models.sharded import ShardedList, read_sharded_page

    keys = partitions(kind, searched.prefix)
    listing = ShardedList(model=SearchEntry, shard_partitions=[{"prefix_key": key} for key in keys],
                          key_names=frozenset({"prefix_key", "item_id"}), order_key=lambda entry: entry.item_id)

    def query_shard(shard: int, start: dict | None, limit: int):
        results = SearchEntry.query(keys[shard], scan_index_forward=False, limit=min(limit * READ_FACTOR, 100),
                                    last_evaluated_key=start)
        return _Filtered(results, lambda entry: searched.matches(entry.words or []))

    return read_sharded_page(listing, query_shard, page)


def search(caller: Caller, q: str | None, kind: str | None, page: PageRequest) -> Page:
    searched = _search_plan(q, kind)
    assert kind is not None
    entries, next_cursor = matching_entries(searched, kind, page)
    if not entries:
        return Page(items=[], next_cursor=next_cursor)
    hits = HITS[kind](caller, entries)
    return Page(items=hits, next_cursor=next_cursor)


def _user_hits(caller: Caller, entries: list) -> list[dict]:
    from chalicelib.services.cards import read_cards

    ids = [entry.item_id for entry in entries]
    cards = read_cards(user_ids=ids).users
    return [{"type": "user", "id": user_id, "user": cards[user_id]} for user_id in ids
            if cards[user_id].user_id is not None]


def _store_hits(caller: Caller, entries: list) -> list[dict]:
    from chalicelib.services.merchants import merchant_view, standings

    found = standings([entry.item_id for entry in entries])
    return [{"type": "store", "id": entry.item_id, "store": merchant_view(found[entry.item_id])}
            for entry in entries if entry.item_id in found and found[entry.item_id].store_name]


def _product_hits(caller: Caller, entries: list) -> list[dict]:
    from chalicelib.services.cards import product_cards

    merchant_of = {entry.item_id: entry.merchant_id for entry in entries if entry.merchant_id}
    cards = product_cards([entry.item_id for entry in entries], merchant_of=merchant_of)
    return [{"type": "product", "id": entry.item_id, "product": cards[entry.item_id]} for entry in entries
            if cards[entry.item_id].available]


def _question_hits(caller: Caller, entries: list) -> list[dict]:
    """The questions and their cards in ONE BatchGetItem (the entries name the askers and products)."""
    from chalicelib.models.advice import Question
    from chalicelib.models.base import batch_get
    from chalicelib.services.cards import CardRead
    from chalicelib.services.questions import question_view, questions_cards

    merchant_of: dict[str, str] = {}
    for entry in entries:
        kept = entry.product_merchants
        merchant_of.update(kept.as_dict() if kept is not None else {})
    read = CardRead(user_ids=[entry.asker_id for entry in entries if entry.asker_id],
                    product_ids=list(merchant_of), merchant_of=merchant_of)
    found = batch_get([(Question, entry.item_id, None) for entry in entries] + read.keys())
    cards = read.build(found[len(entries):])
    questions: list[Question] = [q for q in found[:len(entries)] if q is not None]  # type: ignore[misc]
    if any(q.asker_id not in cards.users or set(q.product_ids or []) - set(cards.products) for q in questions):
        cards = questions_cards(questions)  # entries written without the copies: one more read
    return [{"type": "question", "id": q.question_id, "question": question_view(q, cards)} for q in questions]


def _circle_hits(caller: Caller, entries: list) -> list[dict]:
    """The circles and the caller's memberships in ONE BatchGetItem."""
    from chalicelib.models.base import batch_get
    from chalicelib.models.groups import Group, GroupMember
    from chalicelib.services.groups import group_view

    ids = [entry.item_id for entry in entries]
    found = batch_get([(Group, group_id, None) for group_id in ids]
                      + [(GroupMember, *GroupMember.key(group_id, caller.user_id)) for group_id in ids])
    groups: list[Group | None] = found[:len(ids)]  # type: ignore[assignment]
    memberships: list[GroupMember | None] = found[len(ids):]  # type: ignore[assignment]
    return [{"type": "circle", "id": group.group_id, "circle": group_view(group, membership)}
            for group, membership in zip(groups, memberships, strict=True) if group is not None]


HITS: dict[str, Callable[[Caller, list], list[dict]]] = {
    "user": _user_hits, "store": _store_hits, "product": _product_hits, "question": _question_hits,
    "circle": _circle_hits,
}

