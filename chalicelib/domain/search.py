"""Search without a search cluster: the words of a name, their prefixes, and the index keys.

A name or title is folded (NFKC, then casefold: "ＳＨＯＥ", "Shoe" and "shoe" are one word) and cut
into words: runs of letters and digits, except that Chinese (Han) and Japanese kana characters are
words of one character each ("Chinese text is matched by its characters"). Each word is indexed under
its prefixes, and a query matches an item when every query word is a prefix of some word of its name.

Bounds (the write amplification of one item, see docs/scale.md "Search"):

* a prefix is `MIN_PREFIX`..`MAX_PREFIX` characters (a Han or kana character is a whole word of one);
  one-letter Latin prefixes are not keys: every name has a word starting with "a" or "s", so those
  partitions would take a share of every write of the type (the hot-prefix rule). A one-letter query
  word still matches, as a filter beside a longer word;
* an item has at most `MAX_KEYS_PER_ITEM` keys: words are taken in order until the budget is spent,
  so a long title indexes its first words (later words still match as filters beside an indexed one).

So an item costs at most 48 index writes when it appears or leaves, and 96 when it is renamed.

Hot partitions: the partition key is "{type}#{prefix}#{shard}". Types never share a partition; the
hottest write path, products (catalogue imports on Double-11), spreads each prefix over
`SHARDS["product"]` partitions by product id and a page reads both in parallel (2 Queries plus one
BatchGetItem: the 3-call budget). A query reads ONE prefix: the most selective word's (the longest,
a Han character counting as `HAN_WEIGHT` letters), and filters the other words in the entries.

Plain Python: no boto3, no PynamoDB.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chalicelib.domain.sharded_lists import shard_key, shard_of

MIN_PREFIX = 2
MAX_PREFIX = 8
MAX_KEYS_PER_ITEM = 48
MAX_QUERY_LENGTH = 100
MAX_QUERY_WORDS = 8
MAX_STORED_WORDS = 40  # the words kept on each entry for the filter (a name is at most ~120 chars)
HAN_WEIGHT = 3  # a Han character is about as selective as a 3-letter prefix

TYPES = ("user", "store", "product", "question", "circle")
#: What the OpenAPI document says a searchable `q` contains (an unanchored JSON Schema pattern, ECMA and
#: Python alike): two ASCII letters or digits in a row, or a Han / kana character. `plan` accepts more
#: (any script's letters); every value matching this is searchable.
SEARCHABLE = "[0-9A-Za-z]{2}|[\\u3040-\\u30ff\\u3400-\\u9fff]"
SHARDS = {"user": 1, "store": 1, "product": 2, "question": 1, "circle": 1}


def fold(text: str) -> str:
    """Case- and width-folded: NFKC (full-width to ASCII, compatibility forms), casefold, NFKC again
    (casefold may leave a string that is no longer normalised, e.g. "ǰ")."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def is_character_word(char: str) -> bool:
    """Han ideographs and Japanese kana: matched by characters, not by space-separated words."""
    code = ord(char)
    return (0x3400 <= code <= 0x4DBF or 0x4E00 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF
            or 0x20000 <= code <= 0x3134F or 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF)


def _word_char(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LN" or category in ("Mn", "Mc")


def words(text: str) -> list[str]:
    """The folded words of `text`, in order, without repeats."""
    found: list[str] = []
    current: list[str] = []

    def end_word() -> None:
        if current:
            found.append("".join(current))
            current.clear()

    for char in fold(text):
        if is_character_word(char):
            end_word()
            found.append(char)
        elif _word_char(char):
            current.append(char)
        else:
            end_word()
    end_word()
    return list(dict.fromkeys(found))


def is_keyable(word: str) -> bool:
    """A word that can name an index partition: a Han/kana character, or 2+ characters."""
    return len(word) >= MIN_PREFIX or (len(word) == 1 and is_character_word(word))


def prefixes(word: str) -> list[str]:
    """The index prefixes of one word, shortest first."""
    if len(word) == 1:
        return [word] if is_character_word(word) else []
    return [word[:length] for length in range(MIN_PREFIX, min(len(word), MAX_PREFIX) + 1)]


def item_prefixes(name_words: Sequence[str]) -> list[str]:
    """The prefixes an item is indexed under: word by word, at most `MAX_KEYS_PER_ITEM`."""
    keys: dict[str, None] = {}
    for word in name_words:
        new = [prefix for prefix in prefixes(word) if prefix not in keys]
        if len(keys) + len(new) > MAX_KEYS_PER_ITEM:
            break
        keys.update(dict.fromkeys(new))
    return list(keys)


def partition_key(kind: str, prefix: str, shard: int) -> str:
    return shard_key(f"{kind}#{prefix}", shard)


def partitions(kind: str, prefix: str) -> list[str]:
    return [partition_key(kind, prefix, shard) for shard in range(SHARDS[kind])]


def entry_keys(kind: str, item_id: str, name: str | None) -> set[str]:
    """The partition keys of every index entry of one item (none for an item without a name)."""
    if not name:
        return set()
    shard = shard_of(item_id, SHARDS[kind])
    return {partition_key(kind, prefix, shard) for prefix in item_prefixes(words(name))}


def stored_words(name: str) -> list[str]:
    return words(name)[:MAX_STORED_WORDS]


def matches(query_words: Iterable[str], name_words: Sequence[str]) -> bool:
    """Every query word is a prefix of some word of the name."""
    return all(any(word.startswith(q) for word in name_words) for q in query_words)


class QueryError(ValueError):
    """A query that cannot be searched; the message names the field (the route's 400)."""


@dataclass(frozen=True)
class SearchPlan:
    words: tuple[str, ...]  # every folded query word (all must match)
    prefix: str  # the one prefix whose partition(s) are read

    def matches(self, name_words: Sequence[str]) -> bool:
        return matches(self.words, name_words)


def selectivity(word: str) -> int:
    if len(word) == 1 and is_character_word(word):
        return HAN_WEIGHT
    return min(len(word), MAX_PREFIX)


def plan(q: str | None) -> SearchPlan:
    """What one search reads: the most selective word's prefix, and the words every hit must match."""
    if q is None or not q.strip():
        raise QueryError("q: required (a word or a prefix of one)")
    if len(q) > MAX_QUERY_LENGTH:
        raise QueryError(f"q: at most {MAX_QUERY_LENGTH} characters")
    all_words = words(q)
    if not all_words:
        raise QueryError("q: needs a letter, a digit or a Chinese character")
    keyable = [word for word in all_words if is_keyable(word)]
    if not keyable:
        raise QueryError(f"q: needs a word of at least {MIN_PREFIX} letters or a Chinese character")
    best = max(keyable, key=selectivity)  # the first of the most selective, wherever it stands in q
    query_words = all_words[:MAX_QUERY_WORDS]
    if best not in query_words:  # a keyable word past the first few still keys the read
        query_words = query_words[:MAX_QUERY_WORDS - 1] + [best]
    return SearchPlan(words=tuple(query_words), prefix=best[:MAX_PREFIX])
