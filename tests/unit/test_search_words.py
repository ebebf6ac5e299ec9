"""Search words: folding, tokenising (Latin, full-width, Chinese, mixed), prefixes and their bounds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.circles import DIRECTORY_SHARDS, directory_key, wanted_directory_key
from chalicelib.domain.search import (
    MAX_KEYS_PER_ITEM,
    MAX_PREFIX,
    MAX_QUERY_LENGTH,
    SEARCHABLE,
    QueryError,
    entry_keys,
    fold,
    item_prefixes,
    matches,
    partitions,
    plan,
    prefixes,
    words,
)


def test_folding_is_case_and_width_blind():
    assert fold("ＬＥＮＳ Ｃａｍｅｒａ") == "lens camera"
    assert fold("Straße") == "strasse"
    assert fold("ＡＢＣ１２３") == "abc123"
    assert fold("ΣΊΣΥΦΟΣ") == fold("σίσυφος")


def test_latin_words_are_runs_of_letters_and_digits_without_repeats():
    assert words("Red shoes, RED boots & iPhone-15!") == ["red", "shoes", "boots", "iphone", "15"]
    assert words("café crème") == ["café", "crème"]
    assert words("!!! --- ???") == []


def test_chinese_and_kana_are_words_of_one_character_and_mixed_text_splits_at_them():
    assert words("上海店") == ["上", "海", "店"]
    assert words("Ｌｅｎｓ上海 corner") == ["lens", "上", "海", "corner"]
    assert words("2024新款连衣裙") == ["2024", "新", "款", "连", "衣", "裙"]
    assert words("カメラ") == ["カ", "メ", "ラ"]
    assert words("서울 카메라") == ["서울", "카메라"]  # Hangul is written in words


def test_prefixes_start_at_two_letters_stop_at_the_cap_and_a_chinese_character_is_its_own():
    assert prefixes("a") == []
    assert prefixes("shoes") == ["sh", "sho", "shoe", "shoes"]
    assert prefixes("photographer") == ["ph", "pho", "phot", "photo", "photog", "photogr", "photogra"]
    assert prefixes("店") == ["店"]
    assert item_prefixes(["shoes", "shirt"]) == ["sh", "sho", "shoe", "shoes", "shi", "shir", "shirt"]


@given(st.text(max_size=300))
def test_an_item_never_has_more_keys_than_the_bound(text):
    keys = item_prefixes(words(text))
    assert len(keys) <= MAX_KEYS_PER_ITEM
    assert all(1 <= len(key) <= MAX_PREFIX for key in keys)


@given(st.text(alphabet=st.characters(categories=("Lu", "Ll", "Nd", "Lo", "Zs")), min_size=1, max_size=40))
def test_every_word_of_a_short_name_is_found_by_each_of_its_keyable_prefixes(name):
    name_words = words(name)
    if len(item_prefixes(name_words)) >= MAX_KEYS_PER_ITEM:
        return
    for word in name_words:
        for prefix in prefixes(word):
            assert matches([prefix], name_words)
            assert plan(prefix).prefix in item_prefixes(name_words)


def test_a_query_reads_the_most_selective_word_and_filters_the_others():
    assert plan("red shoes").prefix == "shoes"
    assert plan("a photographer").prefix == "photogra"  # capped; the whole word is still filtered
    assert plan("a photographer").words == ("a", "photographer")
    assert plan("店 ab").prefix == "店"  # a Chinese character beats a two-letter prefix
    assert plan("ＳＨＯＥ").prefix == "shoe"
    assert matches(plan("sh re").words, words("Red Shoes"))
    assert not matches(plan("sh bl").words, words("Red Shoes"))


@pytest.mark.parametrize(("q", "message"), [
    (None, "q: required"), ("   ", "q: required"), ("x" * 101, "q: at most 100"),
    ("!?- ...", "q: needs a letter"), ("a b c", "q: needs a word of at least 2"),
])
def test_a_query_that_cannot_be_searched_names_q(q, message):
    with pytest.raises(QueryError) as error:
        plan(q)
    assert str(error.value).startswith(message)


def test_keys_are_per_type_and_products_spread_over_two_shards():
    assert partitions("store", "le") == ["store#le#0"]
    assert partitions("product", "le") == ["product#le#0", "product#le#1"]
    product_keys = entry_keys("product", "P1", "Lens cap")
    assert product_keys <= set(partitions("product", "le") + partitions("product", "cap") + partitions("product", "len")
                               + partitions("product", "lens") + partitions("product", "ca"))
    assert len({key.rsplit("#", 1)[1] for key in product_keys}) == 1  # one item: one shard
    assert entry_keys("user", "U1", None) == entry_keys("user", "U1", "") == set()


def test_a_circle_is_in_one_directory_shard_unless_removed():
    assert directory_key("G1").startswith("circles#")
    assert int(directory_key("G1").rsplit("#", 1)[1]) < DIRECTORY_SHARDS
    assert wanted_directory_key("G1", removed=False) == directory_key("G1")
    assert wanted_directory_key("G1", removed=True) is None


@given(st.from_regex(SEARCHABLE).filter(lambda q: len(q) <= MAX_QUERY_LENGTH))
def test_every_query_the_document_calls_searchable_is_searchable(q):
    assert plan(q).prefix


def test_a_keyable_word_past_the_first_eight_still_keys_the_read():
    # found by the property above: eight one-letter words, then a searchable one
    assert plan("0:1:2:3:4:5:6:7:00").prefix == "00"
