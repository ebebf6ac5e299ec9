"""Wallets and the ledger: reading them, and the ids and shapes every ledger writer shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.domain.ids import _encode, cause_digest, cause_id, iso, utc_now
from chalicelib.domain.points import DAILY_CAP, Purse, utc_day
from chalicelib.models.base import get_or_none
from chalicelib.models.points import LedgerEntry, Wallet
from chalicelib.models.sharded import ShardedList, read_sharded_page
from chalicelib.pagination import Page, PageRequest
from chalicelib.schemas import lazy_models

if TYPE_CHECKING:
    from chalicelib.schemas.points import PointsOut
else:
    PointsOut, = lazy_models("chalicelib.schemas.points", "PointsOut")


def ledger_entry_id(at_ms: int, cause: str, *, sequence: str | None = None, index: int = 0) -> str:
    """Time-sortable like any ID, but derived from its cause: the same cause can be written only once.

    Stream records carry their time in whole seconds, so entries from a stream also sort by the
    record's sequence number (ordered within a shard) and by their position within the record.
    """
    if sequence is not None and sequence.isdigit():
        return _encode(at_ms, 10) + _encode(int(sequence), 27) + _encode(index, 2) + _encode(cause_digest(cause), 16)
    return cause_id(at_ms, cause)


def read_wallet(user_id: str, consistent: bool = True) -> Wallet | None:
    return get_or_none(Wallet, user_id, consistent_read=consistent)


def purse_of(wallet: Wallet | None) -> Purse:
    if wallet is None:
        return Purse()
    tally = wallet.capped_today.as_dict() if wallet.capped_today is not None else {}
    return Purse(int(wallet.balance or 0), int(wallet.lifetime_earned or 0), {d: int(n) for d, n in tally.items()})


def get_points(user_id: str) -> PointsOut:
    purse = purse_of(read_wallet(user_id, consistent=False))
    today = utc_day(utc_now())
    return PointsOut(balance=purse.balance, lifetime_earned=purse.lifetime_earned,
                     capped_earned_today=purse.capped_on(today), daily_cap=DAILY_CAP)


def entry_view(entry: LedgerEntry) -> dict:
    return {
        "entry_id": entry.entry_id,
        "amount": int(entry.amount),
        "reason": entry.reason,
        "ref": entry.ref,
        "created_at": entry.created_at,
    }


def list_ledger(user_id: str, page: PageRequest) -> Page:
    """Newest first: one Query per shard of the user's ledger (in parallel), merged by entry id
    (time-sortable). The partitions hold only this user's entries (standing awards live apart)."""
    partitions = LedgerEntry.partitions(user_id)
    listing = ShardedList(
        model=LedgerEntry,
        shard_partitions=[{"user_id": partition} for partition in partitions],
        key_names=frozenset({"user_id", "entry_id"}),
        order_key=lambda entry: entry.entry_id,
    )

    def query_shard(shard: int, start: dict | None, limit: int):
        return LedgerEntry.query(partitions[shard], scan_index_forward=False, limit=limit, last_evaluated_key=start)

    rows, next_cursor = read_sharded_page(listing, query_shard, page)
    return Page(items=[entry_view(entry) for entry in rows], next_cursor=next_cursor)


def new_entry(user_id: str, *, at_ms: int, cause: str, amount: int, reason: str, ref: str,
              sequence: str | None = None, index: int = 0) -> LedgerEntry:
    from datetime import UTC, datetime

    entry_id = ledger_entry_id(at_ms, cause, sequence=sequence, index=index)
    return LedgerEntry(
        LedgerEntry.partition(user_id, entry_id),
        entry_id,
        amount=amount,
        reason=reason,
        ref=ref,
        created_at=iso(datetime.fromtimestamp(at_ms / 1000, tz=UTC)),
    )
