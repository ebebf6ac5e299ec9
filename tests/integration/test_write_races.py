"""One user's racing requests end the way DynamoDB serialises them, never in an error.

A write that finds its item already there must answer from what the write itself established,
not read the item back: a racing delete may have removed it by then (defect 3 of issue #12).
The services are called from 12 threads at once against the in-process moto, with a tiny thread
switch interval so that the steps of the racing requests interleave as often as possible. Moto
is made atomic per DynamoDB request, as DynamoDB is and as the local stack's moto server is
(`SerialisedDynamoDB`): otherwise moto's own steps race (an update finding the item it just
read gone) and the test would measure moto rather than the service.
"""

from __future__ import annotations

import contextlib
import sys
import threading

import pytest

from chalicelib.auth import Caller
from tests.support.advice import product
from tests.support.api import call

THREADS = 12
ROUNDS = 15


pytestmark = pytest.mark.usefixtures("atomic_dynamodb")  # conftest: one DynamoDB request at a time


@contextlib.contextmanager
def _busy_switching():
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def race(*actions) -> list[BaseException]:
    """Run `actions` round-robin on THREADS threads, ROUNDS times each, all starting together."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(action) -> None:
        barrier.wait()
        for _ in range(ROUNDS):
            try:
                action()
            except BaseException as exc:  # noqa: BLE001 - every error is the finding
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(actions[n % len(actions)],)) for n in range(THREADS)]
    with _busy_switching():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return errors


def caller_of(user) -> Caller:
    return Caller(user_id=user.user_id, username=user.email, groups=frozenset())


def test_racing_join_and_leave_of_a_circle_never_fail(client, users):
    from chalicelib.services import groups

    owner, member = users("owner"), users("member")
    group_id = call(client, "POST", "/groups", owner,
                    {"name": "Film", "description": "Grain", "label": "camera"}).data["group_id"]
    me = caller_of(member)
    answers: list[dict] = []

    def join() -> None:
        answers.append(groups.join(me, group_id))

    # When one user joins and leaves the same circle from 12 threads at once
    errors = race(join, lambda: groups.leave(me, group_id))
    # Then no request failed, and every join answered as a member
    assert errors == []
    assert {(a.member, a.role) for a in answers} == {(True, "member")}


def test_racing_add_and_remove_on_the_wishlist_never_fail(client, users):
    from chalicelib.services import wishlists

    shop, shopper = users("shop", groups=("merchants",)), users("shopper")
    item = product(client, shop, title="Lens", price_cents=30_000)
    me = caller_of(shopper)
    answers: list = []

    def add() -> None:
        answers.append(wishlists.add(me, item["product_id"]))

    # When one user adds and removes the same product from 12 threads at once
    errors = race(add, lambda: wishlists.remove(me, item["product_id"]))
    # Then no request failed, and every add answered with the product's entry
    assert errors == []
    assert {(a.product_id, a.title, a.price_cents) for a in answers} == {
        (item["product_id"], "Lens", 30_000)}
