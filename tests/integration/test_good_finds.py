"""Good Finds: rated stores' products for the caller's labels, kept by the stream handlers."""

from __future__ import annotations

import itertools

import pytest

from tests.support.api import call
from tests.support.clock import next_millisecond

SCORES = {"platinum": 95, "gold": 85, "silver": 75, "bronze": 65, None: 30}
_names = itertools.count()


@pytest.fixture
def panel(users):
    return [users(f"judge{i}", groups=("judges",)) for i in range(3)]


@pytest.fixture
def open_store(client, users):
    def make(name: str):
        merchant = users("merchant", groups=("merchants",))
        response = call(client, "PUT", "/merchants/me", merchant, {"store_name": name})
        assert response.status_code == 200, response.data
        return merchant

    return make


@pytest.fixture
def grade(client, panel, streams):
    """Have the whole panel score a store so that it lands in `tier`, and deliver the streams."""

    def make(store, tier, drain=streams):
        for judge in panel:
            response = call(client, "PUT", f"/merchants/{store.user_id}/ratings/me", judge, {"score": SCORES[tier]})
            assert response.status_code == 200, response.data
        drain.drain()

    return make


def add_product(client, merchant, labels=("digital",), title=None, price_cents=1999):
    next_millisecond()  # distinct creation times, so "newest first" is well defined
    body = {"title": title or f"product {next(_names)}", "price_cents": price_cents, "labels": list(labels)}
    response = call(client, "POST", "/products", merchant, body)
    assert response.status_code == 201, response.data
    return response.data["product_id"]


def shopper_with(client, users, labels=()):
    shopper = users("shopper")
    assert call(client, "PUT", "/me", shopper, {"display_name": "S", "labels": list(labels)}).status_code == 200
    return shopper


def good_finds(client, user, **query):
    path = "/good-finds" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    response = call(client, "GET", path, user)
    assert response.status_code == 200, response.data
    return response.data


def ids(page):
    return [item["product_id"] for item in page["items"]]


def entries_of(store):
    from chalicelib.models.merchants import GoodFind

    return list(GoodFind.by_merchant.query(store.user_id))


def test_only_rated_stores_products_are_good_finds(client, users, open_store, grade, streams):
    # Given a Gold store and an unrated one, each with a product
    gold, unrated = open_store("Gold Lens"), open_store("Nobody Yet")
    gold_product = add_product(client, gold, ["camera"], title="Leica M6", price_cents=250000)
    add_product(client, unrated, ["camera"])
    grade(gold, "gold")
    # When a shopper without labels asks for Good Finds
    page = good_finds(client, shopper_with(client, users))
    # Then only the rated store's product shows, with its store and tier
    assert page["next_cursor"] is None
    assert page["items"] == [{
        "product_id": gold_product, "title": "Leica M6", "price_cents": 250000, "image_url": None,
        "labels": ["camera"], "merchant_id": gold.user_id, "store_name": "Gold Lens", "tier": "gold",
        "badge": "tier-gold", "created_at": page["items"][0]["created_at"],
        "product": {
            "product_id": gold_product, "title": "Leica M6", "price_cents": 250000, "currency": "CNY",
            "image_url": None, "rating_avg": None, "review_count": 0, "available": True,
            "merchant": {"merchant_id": gold.user_id, "store_name": "Gold Lens", "tier": "gold",
                         "badge": "tier-gold"},
        },
    }]


def test_two_scores_list_nothing_and_a_third_lists_the_store(client, users, open_store, panel, streams):
    store = open_store("Slow Start")
    add_product(client, store, ["camera"])
    for judge in panel[:2]:
        call(client, "PUT", f"/merchants/{store.user_id}/ratings/me", judge, {"score": 99})
    streams.drain()
    shopper = shopper_with(client, users)
    assert ids(good_finds(client, shopper)) == []
    call(client, "PUT", f"/merchants/{store.user_id}/ratings/me", panel[2], {"score": 99})
    streams.drain()
    assert len(ids(good_finds(client, shopper))) == 1


def test_higher_tier_first_then_newest(client, users, open_store, grade):
    platinum, gold = open_store("P"), open_store("G")
    older = add_product(client, platinum)
    newer = add_product(client, platinum)
    newest_but_gold = add_product(client, gold)
    grade(platinum, "platinum")
    grade(gold, "gold")
    assert ids(good_finds(client, shopper_with(client, users))) == [newer, older, newest_but_gold]


def test_the_callers_labels_choose_the_products_each_shown_once(client, users, open_store, grade):
    store = open_store("Mixed")
    camera = add_product(client, store, ["camera"])
    phone = add_product(client, store, ["phone"])
    both = add_product(client, store, ["camera", "phone"])
    cooking = add_product(client, store, ["cooking"])
    grade(store, "silver")
    assert ids(good_finds(client, shopper_with(client, users, ["camera", "phone"]))) == [both, phone, camera]
    assert ids(good_finds(client, shopper_with(client, users, ["cooking", "makeup"]))) == [cooking]
    assert ids(good_finds(client, shopper_with(client, users, ["lolita"]))) == []
    assert ids(good_finds(client, shopper_with(client, users))) == [cooking, both, phone, camera]


def test_a_caller_without_a_profile_sees_all_good_finds(client, users, open_store, grade):
    store = open_store("Any")
    product = add_product(client, store, ["camera"])
    grade(store, "bronze")
    assert ids(good_finds(client, users("new-shopper"))) == [product]


def test_pages_follow_the_cursor_without_repeats_or_gaps(client, users, open_store, grade):
    platinum, bronze = open_store("P"), open_store("B")
    made = [add_product(client, platinum, ["camera", "phone"]) for _ in range(3)]
    made += [add_product(client, bronze, ["phone", "digital"]) for _ in range(3)]
    grade(platinum, "platinum")
    grade(bronze, "bronze")
    shopper = shopper_with(client, users, ["camera", "phone", "digital"])
    expected = list(reversed(made[:3])) + list(reversed(made[3:]))
    seen, cursor = [], None
    for _ in range(10):
        query = {"limit": 2} if cursor is None else {"limit": 2, "cursor": cursor}
        page = good_finds(client, shopper, **query)
        assert len(page["items"]) <= 2
        seen += ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


def test_a_tampered_cursor_is_400(client, users, open_store, grade):
    store = open_store("S")
    add_product(client, store)
    add_product(client, store)
    grade(store, "gold")
    shopper = shopper_with(client, users)
    cursor = good_finds(client, shopper, limit=1)["next_cursor"]
    assert cursor
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    assert call(client, "GET", f"/good-finds?cursor={tampered}", shopper).status_code == 400
    assert call(client, "GET", "/good-finds?limit=0", shopper).status_code == 400
    assert call(client, "GET", f"/merchants/{store.user_id}/products?cursor={cursor}", shopper).status_code == 400


def test_a_page_is_one_query_per_caller_label_and_no_scan(client, users, open_store, grade, monkeypatch):
    from pynamodb.connection import Connection

    from chalicelib.models.merchants import GoodFind

    store = open_store("S")
    for labels in (["camera"], ["phone"], ["digital", "camera"]):
        add_product(client, store, labels)
    grade(store, "gold")
    shopper = shopper_with(client, users, ["camera", "phone", "digital"])
    queries = []
    real_query = GoodFind.query.__func__

    def counting_query(cls, label, *args, **kwargs):
        queries.append(label)
        return real_query(cls, label, *args, **kwargs)

    def no_scan(*args, **kwargs):
        raise AssertionError("Scan used")

    monkeypatch.setattr(GoodFind, "query", classmethod(counting_query))
    monkeypatch.setattr(Connection, "scan", no_scan)
    assert len(ids(good_finds(client, shopper))) == 3
    assert sorted(queries) == ["camera", "digital", "phone"]


def test_a_lost_tier_removes_the_stores_products(client, users, open_store, grade, panel, streams):
    # Given a Gold store with products in Good Finds
    store, other = open_store("Falling"), open_store("Steady")
    add_product(client, store, ["camera"])
    add_product(client, store, ["phone", "camera"])
    steady = add_product(client, other, ["camera"])
    grade(store, "gold")
    grade(other, "silver")
    shopper = shopper_with(client, users, ["camera"])
    assert len(ids(good_finds(client, shopper))) == 3
    assert len(entries_of(store)) == 5  # "*" and each label, per product
    # When one judge's new score takes the mean below Bronze: (0 + 85 + 85) / 3 = 56.67
    call(client, "PUT", f"/merchants/{store.user_id}/ratings/me", panel[0], {"score": 0})
    streams.drain()
    # Then its products leave Good Finds, and the index holds nothing of it
    assert call(client, "GET", f"/merchants/{store.user_id}", shopper).data["tier"] is None
    assert ids(good_finds(client, shopper)) == [steady]
    assert entries_of(store) == []


def test_a_tier_change_reorders_the_stores_products(client, users, open_store, grade, panel, streams):
    rising, steady = open_store("Rising"), open_store("Steady")
    rising_product = add_product(client, rising)
    steady_product = add_product(client, steady)
    grade(rising, "bronze")
    grade(steady, "gold")
    shopper = shopper_with(client, users)
    assert ids(good_finds(client, shopper)) == [steady_product, rising_product]
    grade(rising, "platinum")
    page = good_finds(client, shopper)
    assert ids(page) == [rising_product, steady_product]
    assert page["items"][0]["tier"] == "platinum" and page["items"][0]["badge"] == "tier-platinum"
    assert len(entries_of(rising)) == 2  # "*" and "digital" at Platinum: the Bronze ones are gone


def test_products_added_to_or_removed_from_a_rated_store_follow(client, users, open_store, grade, streams):
    from chalicelib.models.advice import Product

    store = open_store("Rated")
    grade(store, "silver")
    shopper = shopper_with(client, users, ["seafood"])
    # When the rated store adds a product
    product_id = add_product(client, store, ["seafood"], title="Crab")
    streams.drain()
    # Then it is a Good Find at once
    assert ids(good_finds(client, shopper)) == [product_id]
    # When its labels change and then it is removed
    product = Product.get(product_id)
    product.update(actions=[Product.labels.set(["cooking"]), Product.title.set("Crab pot")])
    streams.drain()
    assert ids(good_finds(client, shopper)) == []
    assert [i["title"] for i in good_finds(client, shopper_with(client, users, ["cooking"]))["items"]] == ["Crab pot"]
    Product(product_id).delete()
    streams.drain()
    assert ids(good_finds(client, shopper_with(client, users))) == []
    assert entries_of(store) == []


def test_a_renamed_store_shows_its_new_name(client, users, open_store, grade):
    store = open_store("Old Name")
    add_product(client, store)
    grade(store, "gold")
    call(client, "PUT", "/merchants/me", store, {"store_name": "New Name"})
    assert good_finds(client, shopper_with(client, users))["items"][0]["store_name"] == "New Name"


def test_an_entry_left_behind_by_a_race_is_not_shown(client, users, open_store, grade):
    """An entry whose tier is not the store's current one (a racing re-index) never reaches a page."""
    from chalicelib.domain.tiers import good_find_rank_key
    from chalicelib.models.merchants import GoodFind

    store = open_store("Raced")
    product = add_product(client, store)
    grade(store, "silver")
    stale = GoodFind("*", good_find_rank_key("platinum", "2099-01-01T00:00:00.000Z", product),
                     merchant_id=store.user_id, product_id=product, tier="platinum",
                     created_at="2099-01-01T00:00:00.000Z", title="t", price_cents=1)
    stale.save()
    page = good_finds(client, shopper_with(client, users))
    assert [(item["product_id"], item["tier"]) for item in page["items"]] == [(product, "silver")]


def test_replayed_streams_leave_the_index_as_it_should_be(client, users, open_store, grade, panel, chaos_streams):
    # Given every batch of every stream split at random and delivered twice
    store = open_store("Chaos")
    first = add_product(client, store, ["camera", "phone"])
    grade(store, "gold", drain=chaos_streams)
    second = add_product(client, store, ["camera"])
    chaos_streams.drain()
    grade(store, "platinum", drain=chaos_streams)
    # Then the index holds exactly each product's entries at the current tier
    keys = sorted((entry.label, entry.rank_key.split("#")[0]) for entry in entries_of(store))
    assert keys == sorted([("*", "4"), ("camera", "4"), ("phone", "4"), ("*", "4"), ("camera", "4")])
    assert ids(good_finds(client, shopper_with(client, users, ["camera"]))) == [second, first]
    notices = [n for n in call(client, "GET", "/me/notifications", store).data["items"] if n["type"] == "merchant_tier"]
    assert [n["data"]["tier"] for n in notices] == ["platinum", "gold"]
    assert chaos_streams.set_aside == []


# -- re-indexing a large store: a resumable job -------------------------------------------------------
def reindex_job(store):
    from chalicelib.services import good_finds as service
    from chalicelib.services import jobs

    return jobs.status(service.reindex_job_id(store.user_id))


def stocked_store(client, open_store, count: int):
    """A store with `count` products (written in bulk: the Products stream is not under test here)."""
    from chalicelib.domain.ids import new_id, now_iso
    from chalicelib.models.advice import Product

    store = open_store("Warehouse")
    product_ids = []
    with Product.batch_write() as batch:
        for index in range(count):
            product_id = new_id()
            product_ids.append(product_id)
            batch.save(Product(product_id, merchant_id=store.user_id, title=f"p{index}", price_cents=100,
                               labels=["digital"], created_at=now_iso()))
    return store, product_ids


def tiers_indexed(store) -> dict[str, int]:
    from collections import Counter

    return dict(Counter(entry.rank_key.split("#")[0] for entry in entries_of(store)))


def test_a_tier_change_re_indexes_a_large_store_in_bounded_steps(client, users, open_store, grade, streams,
                                                                  monkeypatch):
    from chalicelib.services import good_finds as service

    monkeypatch.setattr(service, "REINDEX_PAGE_SIZE", 10)
    monkeypatch.setattr(service, "SWEEP_PAGE_SIZE", 20)
    # Given a store with 35 products
    store, product_ids = stocked_store(client, open_store, 35)
    streams.drain()
    # When it is graded Gold, then Silver
    grade(store, "gold")
    assert tiers_indexed(store) == {"3": 70}  # "*" and "digital", per product
    grade(store, "silver")
    # Then a job moved every entry, ten products a step, then swept the old ones twenty at a time
    job = reindex_job(store)
    assert job.done and job.kind == service.REINDEX_JOB
    assert int(job.steps) == 4 + 7  # 35 products in pages of 10; 140 entries (70 new, 70 old) in pages of 20
    assert tiers_indexed(store) == {"2": 70}
    shown = ids(good_finds(client, shopper_with(client, users), limit=50))
    assert sorted(shown) == sorted(product_ids)


def test_a_re_index_that_crashes_mid_step_resumes_from_the_last_recorded_step(client, open_store, grade, streams,
                                                                               monkeypatch):
    from chalicelib.services import good_finds as service

    monkeypatch.setattr(service, "REINDEX_PAGE_SIZE", 10)
    store, _ = stocked_store(client, open_store, 25)
    streams.drain()
    original, calls = service._write, []

    def crash_once_on_the_second_page(desired, stale):
        original(desired, stale)
        calls.append(len(list(desired)))
        if len(calls) == 2:
            raise RuntimeError("the Lambda died here")

    monkeypatch.setattr(service, "_write", crash_once_on_the_second_page)
    # When the store is graded and the second page of its re-index dies after writing
    grade(store, "bronze")
    # Then the job redid that page and finished; every product is indexed once
    job = reindex_job(store)
    assert job.done and int(job.processed) == 25
    assert tiers_indexed(store) == {"1": 50}
    assert streams.set_aside == []


def test_a_newer_tier_change_supersedes_a_running_re_index(client, open_store, grade, streams, monkeypatch):
    from chalicelib.services import good_finds as service
    from chalicelib.services import jobs
    from chalicelib.services.job_steps import JOB_STEPS

    monkeypatch.setattr(service, "REINDEX_PAGE_SIZE", 10)
    store, _ = stocked_store(client, open_store, 25)
    streams.drain()
    # Given the store graded Gold, then a re-index (of a later record) that has run one step and stalls
    grade(store, "gold")
    job_id = service.reindex_job_id(store.user_id)
    gold = reindex_job(store).generation
    stalled = jobs.generation_of(int(gold) + 1)
    assert jobs.start(job_id, service.REINDEX_JOB, store.user_id, phase=service.PRODUCTS,
                      generation=stalled, supersede=True)
    assert jobs.run_step(job_id, 0, stalled, JOB_STEPS)
    # When a newer tier change restarts it
    grade(store, "platinum")
    # Then the newer job ran to the end, and the stalled one's next step, delivered late, does nothing
    newer = reindex_job(store)
    assert newer.generation > stalled and newer.done
    assert not jobs.run_step(job_id, 1, stalled, JOB_STEPS)
    # And an older record replayed does not restart it
    assert not jobs.start(job_id, service.REINDEX_JOB, store.user_id, phase=service.PRODUCTS,
                          generation=gold, supersede=True)
    assert tiers_indexed(store) == {"4": 50}


def test_a_large_re_index_is_exact_under_chaotic_delivery(client, users, open_store, grade, chaos_streams,
                                                          monkeypatch):
    from chalicelib.services import good_finds as service

    monkeypatch.setattr(service, "REINDEX_PAGE_SIZE", 7)
    monkeypatch.setattr(service, "SWEEP_PAGE_SIZE", 9)
    store, product_ids = stocked_store(client, open_store, 30)
    chaos_streams.drain()
    grade(store, "gold", drain=chaos_streams)
    grade(store, "silver", drain=chaos_streams)
    grade(store, None, drain=chaos_streams)
    grade(store, "bronze", drain=chaos_streams)
    assert tiers_indexed(store) == {"1": 60}
    assert reindex_job(store).done
    assert chaos_streams.set_aside == []


def test_an_edited_product_is_relisted_and_a_deleted_one_leaves_good_finds(client, users, open_store, grade,
                                                                            streams):
    # Given a Gold store's two camera products in Good Finds
    store = open_store("Edits")
    kept, dropped = add_product(client, store, ["camera"]), add_product(client, store, ["camera"])
    grade(store, "gold")
    shopper = shopper_with(client, users, ["camera"])
    assert ids(good_finds(client, shopper)) == [dropped, kept]
    # When one is retitled and the other deleted by the store
    assert call(client, "PATCH", f"/products/{kept}", store, {"title": "Renamed"}).status_code == 200
    assert call(client, "DELETE", f"/products/{dropped}", store).status_code == 204
    streams.drain()
    # Then Good Finds shows the new title and no longer the deleted product, nor keeps its entries
    page = good_finds(client, shopper)
    assert [(item["product_id"], item["title"]) for item in page["items"]] == [(kept, "Renamed")]
    entries = entries_of(store)
    assert entries and all(entry.rank_key.endswith(kept) for entry in entries), [e.rank_key for e in entries]
