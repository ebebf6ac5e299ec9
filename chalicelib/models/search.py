"""The word-prefix search index (`domain.search` has the keys and their bounds)."""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, MapAttribute, UnicodeAttribute

from chalicelib.models.base import BaseModel, table_meta


class SearchEntry(BaseModel):
    """One item (a user, store, product, question or circle) under one prefix of a word of its name.

    `prefix_key` is "{type}#{prefix}#{shard}", `item_id` the item's id: a prefix's partition lists
    its items by id, descending (time-sortable ids: newest first). `words` are the name's folded
    words, so a query's other words are matched in the entry, without reading the item. A product's
    store and a question's asker and products are kept so one BatchGetItem reads the page's cards.
    Kept by the stream handlers of the five tables (`services.search`); erasing a user removes their
    profile, and the Users stream then removes the user's entries.
    """

    Meta = table_meta("SearchIndex")
    prefix_key = UnicodeAttribute(hash_key=True)
    item_id = UnicodeAttribute(range_key=True)
    words = ListAttribute(of=UnicodeAttribute, default=list)
    merchant_id = UnicodeAttribute(null=True)  # a product's store
    asker_id = UnicodeAttribute(null=True)  # a question's asker
    product_merchants: MapAttribute = MapAttribute(null=True)  # a question's {product_id: merchant_id}
