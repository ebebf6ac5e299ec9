"""A vote storm on one answer pays its author through one wallet write per 99 voters a batch, not one
transaction per vote, and still exactly: caps, exact reversals and one ledger entry per record, under
chaos and a full replay of the streams (Double-11 rules: no item takes 50 transactions a second)."""

from __future__ import annotations

import pytest

from chalicelib.domain.points import DAILY_CAP, VOTE_UP
from chalicelib.models.advice import AnswerVote
from chalicelib.models.points import ExpertScore, LedgerEntry, StandingAward, Wallet
from tests.integration.test_summed_bursts import BURST, CHAOS_BURST, _replay_everything, _storm
from tests.support.advice import answer, ask
from tests.support.api import call
from tests.support.writes import WritesTo


@pytest.fixture
def hot_answer(client, users):
    asker, helper = users("asker"), users("helper")
    question = ask(client, asker)
    return answer(client, helper, question["question_id"]), question


def _ledger(user_id: str) -> list[LedgerEntry]:
    return [entry for partition in LedgerEntry.partitions(user_id)
            for entry in LedgerEntry.query(partition, consistent_read=True)]


def _standing(user_id: str, answer_id: str, voter: str) -> StandingAward:
    cause = f"vote#{answer_id}#{voter}"
    return StandingAward.get(StandingAward.partition(user_id, cause), cause, consistent_read=True)


def test_a_vote_storm_is_one_wallet_write_per_99_voters_and_one_score_write_per_batch(tables, streams, hot_answer):
    streams.drain()
    reply, question = hot_answer
    author = reply["author_id"]
    _storm(hot_answer, BURST)
    wallet_writes = WritesTo(Wallet, lambda key: key["user_id"] == author)
    score_writes = WritesTo(ExpertScore, lambda key: key["user_id"] == author)
    with wallet_writes, score_writes:
        streams.drain()
    # one batch: 150 voters' standing awards in two transactions with the wallet, not 150
    assert wallet_writes.calls == 2
    # the score summed per label in two transactions (99 markers each), then its level raised and
    # marked notified: 4 writes a label, not 150
    assert score_writes.calls == 4 * len(question["labels"])
    wallet = Wallet.get(author, consistent_read=True)
    assert (int(wallet.balance), int(wallet.lifetime_earned)) == (DAILY_CAP, DAILY_CAP)
    entries = _ledger(author)
    assert len(entries) == BURST  # one entry per vote, the capped ones recorded as 0
    assert sorted(int(e.amount) for e in entries) == [0] * (BURST - DAILY_CAP // VOTE_UP) + [VOTE_UP] * 20
    assert {LedgerEntry.partition(author, e.entry_id) for e in entries} == set(LedgerEntry.partitions(author))
    for label in question["labels"]:
        score = ExpertScore.get(author, label, consistent_read=True)
        assert (int(score.score), int(score.level)) == (BURST, 2)


def test_a_vote_storm_pays_exactly_under_chaos_withdrawals_and_a_full_replay(tables, chaos_streams, hot_answer):
    reply, question = hot_answer
    author, answer_id = reply["author_id"], reply["answer_id"]
    _storm(hot_answer, CHAOS_BURST)
    chaos_streams.drain()
    withdrawn = range(0, CHAOS_BURST, 3)
    with AnswerVote.batch_write() as batch:
        for n in withdrawn:
            batch.delete(AnswerVote.of(answer_id, f"voter{n}"))
    chaos_streams.drain()
    _replay_everything(tables)

    entries = _ledger(author)
    grants = [int(e.amount) for e in entries if e.reason == "answer_upvoted"]
    takebacks = [int(e.amount) for e in entries if e.reason == "upvote_withdrawn"]
    # one entry per record, however often the records came: 100 grants and 34 withdrawals
    assert (len(grants), len(takebacks)) == (CHAOS_BURST, len(withdrawn))
    assert sorted(grants) == [0] * (CHAOS_BURST - 20) + [VOTE_UP] * 20  # the cap, exactly
    # each withdrawal took back exactly what its vote gave; the rest still stands
    standing = [_standing(author, answer_id, f"voter{n}") for n in range(CHAOS_BURST)]
    assert [bool(s.stands) for s in standing] == [n % 3 != 0 for n in range(CHAOS_BURST)]
    kept = sum(int(s.amount) for s in standing if s.stands)
    assert -sum(takebacks) == DAILY_CAP - kept
    wallet = Wallet.get(author, consistent_read=True)
    assert int(wallet.balance) == sum(int(e.amount) for e in entries) == kept
    assert int(wallet.lifetime_earned) == kept
    assert sum(int(n) for n in wallet.capped_today.as_dict().values()) == kept  # freed by what was taken back
    for label in question["labels"]:
        assert int(ExpertScore.get(author, label, consistent_read=True).score) == CHAOS_BURST - len(withdrawn)


def test_the_ledger_pages_newest_first_across_its_shards(tables, streams, client, users):
    asker, helper = users("asker"), users("helper")
    question = ask(client, asker)
    reply = answer(client, helper, question["question_id"])
    _storm((reply, question), 45)
    streams.drain()
    seen, cursor, pages = [], None, 0
    while True:
        path = "/me/points/ledger?limit=10" + (f"&cursor={cursor}" if cursor else "")
        response = call(client, "GET", path, helper)
        assert response.status_code == 200, response.data
        seen.extend(response.data["items"])
        pages += 1
        cursor = response.data.get("next_cursor")
        if not cursor:
            break
    ids = [entry["entry_id"] for entry in seen]
    assert len(set(ids)) == len(ids) == 45 and ids == sorted(ids, reverse=True)
    assert pages in (5, 6) and sum(entry["amount"] for entry in seen) == DAILY_CAP


def test_a_helpful_mark_storm_is_one_wallet_write_per_99_marks(tables, streams):
    from chalicelib.domain.ids import now_iso
    from chalicelib.domain.points import HELPFUL_REVIEW
    from chalicelib.models.advice import HelpfulMark

    with HelpfulMark.batch_write() as batch:
        for n in range(BURST):
            batch.save(HelpfulMark("rev-1", f"shopper{n}", reviewer_id="reviewer", product_id="p1",
                                   labels=["camera"], created_at=now_iso()))
    with WritesTo(Wallet, lambda key: key["user_id"] == "reviewer") as writes:
        streams.drain()
    assert writes.calls == 2
    wallet = Wallet.get("reviewer", consistent_read=True)
    entries = _ledger("reviewer")
    assert int(wallet.balance) == sum(int(e.amount) for e in entries) == DAILY_CAP
    assert sorted(int(e.amount) for e in entries) == [0] * (BURST - 40) + [HELPFUL_REVIEW] * 40
    assert int(ExpertScore.get("reviewer", "camera", consistent_read=True).score) == BURST
