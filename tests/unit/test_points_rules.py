"""The points rules as plain Python: settle, the cap, the floor, transitions, expert levels, coupons.

The property tests drive the domain exactly as the reward stream handler does (item images in,
transitions, one settlement per (user, cause)) over random histories of votes, vote changes and
withdrawals, acceptance moves, helpful marks, spending and day changes, and compare with a
reference model written independently: it derives what should stand from the world's final
state and recomputes the day's cap room from the standing awards instead of a running tally.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import points as rules
from chalicelib.domain.points import (
    DAILY_CAP,
    Award,
    Purse,
    Standing,
    acceptance_transitions,
    helpful_score_moves,
    helpful_transitions,
    level_for,
    raised_level,
    settle,
    vote_score_moves,
    vote_transitions,
)

DAYS = ("2030-03-01", "2030-03-02", "2030-03-03", "2030-03-04")

# -- settle: one cause at a time -------------------------------------------------------------------


def test_an_upvote_gives_ten_and_its_withdrawal_takes_ten_back():
    # Given an empty wallet
    upvote = Award(10, "answer_upvoted", capped=True)
    # When an upvote is settled
    first = settle(Purse(), None, upvote, DAYS[0])
    # Then 10 points are posted and remembered as standing
    assert [p.amount for p in first.postings] == [10]
    assert first.purse.balance == 10 and first.purse.lifetime_earned == 10
    assert first.standing == Standing(10, "answer_upvoted", DAYS[0], True)
    # When it is withdrawn
    second = settle(first.purse, first.standing, None, DAYS[0])
    # Then exactly 10 come back out and the day's room is freed
    assert [(p.amount, p.reason) for p in second.postings] == [(-10, "upvote_withdrawn")]
    assert second.purse.balance == 0 and second.purse.lifetime_earned == 0
    assert second.purse.capped_on(DAYS[0]) == 0 and second.standing is None


def test_changing_a_vote_reverses_the_old_award_and_grants_the_new_one_in_one_settlement():
    start = settle(Purse(balance=50), None, Award(10, "answer_upvoted", True), DAYS[0])
    changed = settle(start.purse, start.standing, Award(-2, "answer_downvoted", True), DAYS[0])
    assert [(p.amount, p.reason) for p in changed.postings] == [(-10, "upvote_withdrawn"), (-2, "answer_downvoted")]
    assert changed.purse.balance == 48
    assert changed.standing.amount == -2


def test_a_capped_award_records_what_was_given_and_its_reversal_takes_back_exactly_that():
    # Given a user who earned 195 capped points today
    purse = Purse(balance=195, lifetime_earned=195, capped_by_day={DAYS[0]: 195})
    # When an upvote arrives
    capped = settle(purse, None, Award(10, "answer_upvoted", True), DAYS[0])
    # Then only 5 are given, and recorded as 5
    assert [p.amount for p in capped.postings] == [5]
    assert capped.purse.capped_on(DAYS[0]) == DAILY_CAP
    # When another arrives, it gives 0, recorded as 0
    zero = settle(capped.purse, None, Award(10, "answer_upvoted", True), DAYS[0])
    assert [p.amount for p in zero.postings] == [0] and zero.standing.amount == 0
    # When the capped one is withdrawn, it takes back 5, not 10
    back = settle(zero.purse, capped.standing, None, DAYS[0])
    assert [p.amount for p in back.postings] == [-5]
    assert back.purse.balance == 195


def test_acceptance_is_not_capped():
    purse = Purse(balance=200, lifetime_earned=200, capped_by_day={DAYS[0]: 200})
    outcome = settle(purse, None, Award(15, "answer_accepted", capped=False), DAYS[0])
    assert [p.amount for p in outcome.postings] == [15]
    assert outcome.purse.capped_on(DAYS[0]) == 200


def test_the_cap_is_per_utc_day():
    purse = Purse(balance=200, lifetime_earned=200, capped_by_day={DAYS[0]: 200})
    outcome = settle(purse, None, Award(10, "answer_upvoted", True), DAYS[1])
    assert [p.amount for p in outcome.postings] == [10]
    assert outcome.purse.capped_on(DAYS[1]) == 10


def test_a_penalty_larger_than_the_balance_takes_it_to_zero_and_records_what_it_took():
    outcome = settle(Purse(balance=1), None, Award(-2, "answer_downvoted", True), DAYS[0])
    assert [p.amount for p in outcome.postings] == [-1]
    assert outcome.purse.balance == 0
    # and withdrawing that downvote gives back the 1 it took, not 2
    back = settle(outcome.purse, outcome.standing, None, DAYS[0])
    assert [p.amount for p in back.postings] == [1]
    assert back.purse.balance == 1


def test_a_reversal_takes_back_exactly_what_its_entry_recorded_even_into_a_debt():
    # Given 10 points from an upvote, all of them spent
    earned = settle(Purse(), None, Award(10, "answer_upvoted", True), DAYS[0])
    spent = Purse(0, earned.purse.lifetime_earned, earned.purse.capped_by_day)
    # When the upvote is withdrawn
    back = settle(spent, earned.standing, None, DAYS[0])
    # Then the 10 it gave are taken back: the balance is a debt of 10, and the ledger says so
    assert [(p.amount, p.reason) for p in back.postings] == [(-10, "upvote_withdrawn")]
    assert back.purse.balance == -10
    # and a debt redeems nothing, not even a free coupon
    assert not rules.can_redeem(back.purse.balance, 0)
    assert not rules.can_redeem(back.purse.balance, 5)
    assert rules.can_redeem(0, 0) and rules.can_redeem(15, 15) and not rules.can_redeem(14, 15)


def test_a_penalty_on_a_debt_takes_nothing_and_its_withdrawal_returns_nothing():
    # Given a user 10 points in debt
    purse = Purse(balance=-10, lifetime_earned=0)
    # When a downvote arrives, it takes nothing (a penalty floors at 0; it never deepens a debt)
    down = settle(purse, None, Award(-2, "answer_downvoted", True), DAYS[0])
    assert [p.amount for p in down.postings] == [0] and down.purse.balance == -10
    # and its withdrawal gives back the 0 it took
    back = settle(down.purse, down.standing, None, DAYS[0])
    assert [p.amount for p in back.postings] == [0] and back.purse.balance == -10


def test_moving_an_acceptance_away_and_back_after_spending_mints_nothing():
    # Given alice's answer a1 accepted (+15) and the 15 spent on a coupon
    engine, world = Engine(), World()
    run([("accept", "q1", "a1", 0)], engine, world=world)
    assert engine.spend("alice", 15)
    # When the asker moves the acceptance to a2 and back to a1
    run([("accept", "q1", "a2", 0), ("accept", "q1", "a1", 0)], engine, world=world)
    # Then alice stands where she stood after spending: 0, and a second coupon is refused
    assert engine.balance("alice") == 0
    assert not engine.spend("alice", 15)
    # and the ledger records every move in full: +15, -15 spent, -15 moved, +15
    assert engine.ledger["alice"] == [15, -15, -15, 15]


def test_withdrawing_spent_upvotes_frees_the_cap_only_by_what_it_took_back():
    # Given 20 upvotes on one day (200, the cap), spent on coupons
    engine, world = Engine(), World()
    run([("crowd", "a1", 20, 1)], engine, world=world)
    assert engine.balance("alice") == DAILY_CAP and engine.spend("alice", DAILY_CAP)
    spent = DAILY_CAP
    for _ in range(3):
        # When every upvote is withdrawn and cast again, and the points are spent once more
        run([("crowd", "a1", 20, 0)], engine, world=world)
        assert engine.balance("alice") == -DAILY_CAP  # each withdrawal took back its 10
        run([("crowd", "a1", 20, 1)], engine, world=world)
        spent += DAILY_CAP if engine.spend("alice", DAILY_CAP) else 0
    # Then the day's votes bought at most the cap's worth of coupons
    assert spent == DAILY_CAP
    assert engine.balance("alice") == 0
    assert engine.purses["alice"].capped_on(DAYS[0]) == DAILY_CAP


def test_old_day_tallies_are_dropped():
    purse = Purse(balance=30, lifetime_earned=30, capped_by_day={"2030-01-01": 20, DAYS[0]: 10})
    outcome = settle(purse, None, Award(5, "review_marked_helpful", True), DAYS[1])
    assert dict(outcome.purse.capped_by_day) == {DAYS[0]: 10, DAYS[1]: 5}


# -- transitions from item images -------------------------------------------------------------------


def vote(value, voter="v1", author="alice", answer="a1", labels=("camera",)):
    return {"answer_id": answer, "voter_id": voter, "value": value, "author_id": author,
            "question_id": "q1", "labels": list(labels)}


def test_vote_transitions_name_the_author_and_one_cause_per_voter():
    [insert] = vote_transitions(None, vote(1))
    assert (insert.user_id, insert.cause, insert.award.amount) == ("alice", "vote#a1#v1", 10)
    [change] = vote_transitions(vote(1), vote(-1))
    assert change.award.amount == -2
    [withdraw] = vote_transitions(vote(-1), None)
    assert withdraw.award is None
    assert vote_transitions(vote(1), {**vote(1), "updated_at": "later"}) == []
    assert vote_transitions(None, vote(1, voter="alice")) == []  # one's own answer


def test_acceptance_transitions_reward_answerer_and_asker_and_ignore_self_acceptance():
    answer = {"answer_id": "a1", "author_id": "alice", "asker_id": "sam", "accepted": False}
    moves = acceptance_transitions(answer, {**answer, "accepted": True})
    assert sorted((t.user_id, t.award.amount) for t in moves) == [("alice", 15), ("sam", 2)]
    moves = acceptance_transitions({**answer, "accepted": True}, answer)
    assert sorted((t.user_id, t.award) for t in moves) == [("alice", None), ("sam", None)]
    assert acceptance_transitions(answer, {**answer, "score": 3}) == []
    own = {**answer, "author_id": "sam"}
    assert acceptance_transitions(own, {**own, "accepted": True}) == []


def test_helpful_transitions():
    mark = {"review_id": "r1", "user_id": "m1", "reviewer_id": "rita", "product_id": "p1", "labels": ["makeup"]}
    [given] = helpful_transitions(None, mark)
    assert (given.user_id, given.award.amount, given.award.capped) == ("rita", 5, True)
    [taken] = helpful_transitions(mark, None)
    assert taken.award is None
    assert helpful_transitions(None, {**mark, "user_id": "rita"}) == []


# -- experts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("score", "level"), [(-5, 0), (0, 0), (9, 0), (10, 1), (49, 1), (50, 2), (199, 2),
                                              (200, 3), (10_000, 3)])
def test_levels_are_reached_at_10_50_and_200(score, level):
    assert level_for(score) == level


@given(st.lists(st.integers(min_value=-3, max_value=3), max_size=200))
def test_levels_are_never_lost(steps):
    score = level = 0
    for step in steps:
        score += step
        new_level = raised_level(level, score)
        assert new_level >= level
        assert new_level == max(level, level_for(score))
        level = new_level


def test_score_moves_count_votes_per_label_and_helpful_marks():
    assert vote_score_moves(None, vote(1, labels=("camera", "phone"))) == {("alice", "camera"): 1,
                                                                         ("alice", "phone"): 1}
    assert vote_score_moves(vote(1), vote(-1)) == {("alice", "camera"): -2}
    assert vote_score_moves(vote(-1), None) == {("alice", "camera"): 1}
    assert vote_score_moves(None, vote(1, voter="alice")) == {}
    mark = {"review_id": "r1", "user_id": "m1", "reviewer_id": "rita", "labels": ["makeup"]}
    assert helpful_score_moves(None, mark) == {("rita", "makeup"): 1}
    assert helpful_score_moves(mark, None) == {("rita", "makeup"): -1}


# -- coupons ---------------------------------------------------------------------------------------


def test_coupon_codes_carry_at_least_60_random_bits_and_do_not_repeat():
    codes = {rules.new_coupon_code() for _ in range(5000)}
    assert len(codes) == 5000
    bits = rules.CODE_LENGTH * math.log2(len(rules.CODE_ALPHABET))
    assert bits >= 60
    assert all(len(code) == rules.CODE_LENGTH and set(code) <= set(rules.CODE_ALPHABET) for code in codes)


def test_codes_are_read_the_way_a_cashier_types_them():
    assert rules.normalise_code(" abcd-ef01-o1il-2345 ") == "ABCDEF0101112345"


def test_campaign_expiry_must_be_a_future_instant_with_a_zone():
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert rules.parse_expiry("2030-02-01T00:00:00Z", now) == datetime(2030, 2, 1, tzinfo=UTC)
    assert rules.parse_expiry("2030-02-01T08:00:00+08:00", now) == datetime(2030, 2, 1, tzinfo=UTC)
    for bad in ("2029-12-31T23:59:59Z", "2030-02-01T00:00:00", "tomorrow", "2035-01-01T00:00:00Z",
                "9999-12-31T23:59:59-23:59", ""):
        with pytest.raises(ValueError):
            rules.parse_expiry(bad, now)


def test_the_most_final_refusal_wins():
    assert rules.refusal({"InsufficientPoints", "SoldOut"}) == "SoldOut"
    assert rules.refusal({"InsufficientPoints", "LimitReached"}) == "LimitReached"
    assert rules.refusal({"Expired", "SoldOut", "LimitReached"}) == "Expired"
    assert rules.refusal(set()) is None


# -- the property tests ----------------------------------------------------------------------------
# A small marketplace: who wrote which answer to whose question, who wrote which review.
ANSWERS = {"a1": ("alice", "q1"), "a2": ("bob", "q1"), "a3": ("alice", "q2"), "a4": ("sam", "q2")}
ASKERS = {"q1": "sam", "q2": "bob"}
REVIEWS = {"r1": "alice", "r2": "bob", "r3": "sam"}
PEOPLE = ("alice", "bob", "sam")


@dataclass
class World:
    """The source tables as the advice engineer writes them, and the stream changes that follow."""

    votes: dict = field(default_factory=dict)  # (answer, voter) -> +1 / -1
    accepted: dict = field(default_factory=dict)  # question -> answer
    marks: set = field(default_factory=set)  # (review, marker)

    def vote_item(self, answer, voter):
        value = self.votes.get((answer, voter))
        if value is None:
            return None
        author, question = ANSWERS[answer]
        return {"answer_id": answer, "voter_id": voter, "value": value, "author_id": author,
                "question_id": question, "labels": ["camera"]}

    def answer_item(self, answer):
        author, question = ANSWERS[answer]
        return {"answer_id": answer, "author_id": author, "asker_id": ASKERS[question], "question_id": question,
                "accepted": self.accepted.get(question) == answer}

    def mark_item(self, review, marker):
        if (review, marker) not in self.marks:
            return None
        return {"review_id": review, "user_id": marker, "reviewer_id": REVIEWS[review], "labels": ["makeup"]}


class Engine:
    """What `services.rewards` and `services.coupons` do, with dicts for tables."""

    def __init__(self):
        self.purses: dict[str, Purse] = {}
        self.standing: dict[tuple[str, str], Standing] = {}
        self.ledger: dict[str, list[int]] = {}
        self.spent: dict[str, int] = {}
        self.into_debt_by: set[str] = set()  # reasons of postings that left a balance below 0

    def apply(self, transitions, day):
        for t in transitions:
            outcome = settle(self.purses.get(t.user_id, Purse()), self.standing.get((t.user_id, t.cause)),
                             t.award, day)
            if outcome.standing is None:
                self.standing.pop((t.user_id, t.cause), None)
            else:
                self.standing[(t.user_id, t.cause)] = outcome.standing
            balance = self.balance(t.user_id)
            for posting in outcome.postings:
                balance += posting.amount
                if posting.amount < 0 and balance < 0:
                    self.into_debt_by.add(posting.reason)
            self.purses[t.user_id] = outcome.purse
            self.ledger.setdefault(t.user_id, []).extend(p.amount for p in outcome.postings)

    def spend(self, user, cost):
        """A coupon redemption: refused unless the balance covers it (the wallet condition of the redeem)."""
        purse = self.purses.get(user, Purse())
        if not rules.can_redeem(purse.balance, cost):
            return False
        self.purses[user] = Purse(purse.balance - cost, purse.lifetime_earned, purse.capped_by_day)
        self.ledger.setdefault(user, []).append(-cost)
        self.spent[user] = self.spent.get(user, 0) + cost
        return True

    def balance(self, user):
        return self.purses.get(user, Purse()).balance

    def standing_total(self, user):
        """What the awards that still stand actually gave (penalties as what they took)."""
        return sum(s.amount for (u, _), s in self.standing.items() if u == user)


class Reference:
    """The contract's rules stated directly: what should stand is read off the world; cap room is
    recomputed from the awards that stand."""

    def __init__(self):
        self.balance: dict[str, int] = {}
        self.given: dict[tuple[str, str], tuple[int, str, bool]] = {}

    @staticmethod
    def should_stand(world: World) -> dict[tuple[str, str], tuple[int, bool]]:
        wanted = {}
        for (answer, voter), value in world.votes.items():
            author = ANSWERS[answer][0]
            if voter != author:
                wanted[(author, f"vote#{answer}#{voter}")] = (10 if value == 1 else -2, True)
        for question, answer in world.accepted.items():
            if answer is None:
                continue
            author, asker = ANSWERS[answer][0], ASKERS[question]
            if author != asker:
                wanted[(author, f"accepted#{answer}")] = (15, False)
                wanted[(asker, f"accepting#{answer}")] = (2, False)
        for review, marker in world.marks:
            if marker != REVIEWS[review]:
                wanted[(REVIEWS[review], f"helpful#{review}#{marker}")] = (5, True)
        return wanted

    def sync(self, world: World, day: str, before: dict):
        """After one item changed: reverse what no longer stands as it stood, grant what newly stands."""
        wanted = self.should_stand(world)
        changed = [key for key in set(wanted) | set(before) if wanted.get(key) != before.get(key)]
        for user, cause in sorted(changed):
            balance = self.balance.get(user, 0)
            if (user, cause) in self.given:
                amount, _, _ = self.given.pop((user, cause))
                balance -= amount  # exactly what it gave or took, even into a debt
            if (user, cause) in wanted:
                base, capped = wanted[(user, cause)]
                if base > 0:
                    room = DAILY_CAP - sum(a for (u, _), (a, d, c) in self.given.items()
                                           if u == user and c and d == day and a > 0)
                    amount = min(base, max(room, 0)) if capped else base
                else:
                    amount = -min(-base, max(balance, 0))  # a penalty takes at most what is there
                balance += amount
                self.given[(user, cause)] = (amount, day, capped)
            self.balance[user] = balance

    def naive(self, world: World, user: str) -> int:
        return sum(base for (u, _), (base, _) in self.should_stand(world).items() if u == user)


VOTERS = ("alice", "bob", "sam", "v0", "v1", "v2")  # a few voters, so votes change and are withdrawn often
CROWD = tuple(f"c{i}" for i in range(24))  # many voters at once, so the daily cap is reached
MARKERS = ("alice", "bob", "sam", "m0", "m1")

vote_ops = st.tuples(st.just("vote"), st.sampled_from(sorted(ANSWERS)), st.sampled_from(VOTERS),
                     st.sampled_from((1, -1, 0)))
crowd_ops = st.tuples(st.just("crowd"), st.sampled_from(sorted(ANSWERS)), st.integers(min_value=1, max_value=24),
                      st.sampled_from((1, -1, 0)))
accept_ops = st.tuples(st.just("accept"), st.sampled_from(sorted(ASKERS)),
                       st.sampled_from((None, "a1", "a2", "a3", "a4")), st.just(0))
helpful_ops = st.tuples(st.just("helpful"), st.sampled_from(sorted(REVIEWS)), st.sampled_from(MARKERS),
                        st.booleans())
spend_ops = st.tuples(st.just("spend"), st.sampled_from(PEOPLE), st.integers(min_value=0, max_value=60), st.just(0))
day_ops = st.tuples(st.just("next_day"), st.just(""), st.just(""), st.just(0))


def run(ops, engine: Engine, reference: Reference | None = None, check_each_step=None, world: World | None = None):
    """Play `ops` one item change at a time, as the streams deliver them (on `world`, or a new one)."""
    world, day_index = world if world is not None else World(), 0

    def item_change(item_of, mutate, transitions_of):
        before = Reference.should_stand(world)
        old = item_of()
        mutate()
        engine.apply(transitions_of(old, item_of()), DAYS[day_index])
        if reference is not None:
            reference.sync(world, DAYS[day_index], before)
        if check_each_step:
            check_each_step(world, engine, reference)

    def set_vote(answer, voter, value):
        if value:
            world.votes[(answer, voter)] = value
        else:
            world.votes.pop((answer, voter), None)

    def set_accepted(question, answer):
        world.accepted[question] = answer

    def set_mark(review, marker, marked):
        (world.marks.add if marked else world.marks.discard)((review, marker))

    for op, a, b, c in ops:
        if op in ("vote", "crowd"):
            for voter in ([b] if op == "vote" else CROWD[:b]):
                item_change(partial(world.vote_item, a, voter), partial(set_vote, a, voter, c), vote_transitions)
        elif op == "accept":
            question, answer = a, b
            previous = world.accepted.get(question)
            if (answer is not None and ANSWERS[answer][1] != question) or previous == answer:
                continue
            if previous is not None:  # the old answer loses the flag, then the new one gets it
                item_change(partial(world.answer_item, previous), partial(set_accepted, question, None),
                            acceptance_transitions)
            if answer is not None:
                item_change(partial(world.answer_item, answer), partial(set_accepted, question, answer),
                            acceptance_transitions)
        elif op == "helpful":
            item_change(partial(world.mark_item, a, b), partial(set_mark, a, b, c), helpful_transitions)
        elif op == "spend":
            balance = reference.balance.get(a, 0) if reference is not None else 0
            if reference is not None and balance >= 0 and b <= balance:
                reference.balance[a] = balance - b
            if engine.spend(a, b) and check_each_step:
                check_each_step(world, engine, reference)
        elif op == "next_day":
            day_index = min(day_index + 1, len(DAYS) - 1)
    return world


def invariants(world, engine, reference):
    for user, purse in engine.purses.items():
        assert purse.balance == sum(engine.ledger[user])
        # every reversal is exact: the balance is what the standing awards gave less what was spent
        assert purse.balance == engine.standing_total(user) - engine.spent.get(user, 0)
        for day, tally in purse.capped_by_day.items():
            assert 0 <= tally <= DAILY_CAP
            standing = sum(s.amount for (u, _), s in engine.standing.items() if u == user and s.capped and s.day == day
                           and s.amount > 0)
            assert tally == standing
    if reference is not None:
        for user in set(engine.purses) | set(reference.balance):
            assert engine.balance(user) == reference.balance.get(user, 0), user


ANY_OP = st.one_of(vote_ops, vote_ops, vote_ops, crowd_ops, accept_ops, helpful_ops, spend_ops, day_ops)


@settings(max_examples=150, deadline=None)
@given(st.lists(ANY_OP, min_size=15, max_size=120))
def test_any_history_ends_with_the_balance_the_rules_give_and_the_ledger_sums_to_it(ops):
    # Given any history of votes, changes, withdrawals, acceptance moves, helpful marks, spending and days
    engine, reference = Engine(), Reference()
    # When each change is settled the way the stream handler settles it
    run(ops, engine, reference, check_each_step=invariants)
    # Then at every step: balance == ledger sum == what stands less what was spent == the reference
    # rules, days within the cap; only reversals ever take a balance below 0, never a penalty
    assert engine.into_debt_by <= set(rules.REVERSAL_REASONS.values())


FARMING_OP = st.one_of(accept_ops, accept_ops, vote_ops, crowd_ops, helpful_ops, spend_ops, spend_ops, day_ops)


@settings(max_examples=300, deadline=None)
@given(st.lists(FARMING_OP, min_size=1, max_size=80))
def test_no_history_redeems_more_coupons_than_the_awards_that_still_stand(ops):
    # Given any history of votes, withdrawals, acceptances and their moves, helpful marks and redeems
    engine = Engine()

    def never_minted(world, engine, reference):
        # Then whenever it is asked, nobody holds more coupons' worth of points than the rules give for
        # what stands now: spent <= what the standing awards gave <= the rules' amounts of the rewards
        rewards = Reference.should_stand(world)
        for user in PEOPLE:
            spent = engine.spent.get(user, 0)
            if engine.balance(user) >= 0:
                assert spent <= engine.standing_total(user)
                assert spent <= sum(base for (u, _), (base, _) in rewards.items() if u == user and base > 0)

    # When it is played, checking after every change and every redeem
    run(ops, engine, check_each_step=never_minted)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(vote_ops.filter(lambda op: op[3] != -1), crowd_ops.filter(lambda op: op[3] != -1),
                          accept_ops, helpful_ops), min_size=1, max_size=80))
def test_without_penalties_or_spending_the_balance_is_the_rules_applied_to_the_final_state(ops):
    # Given histories with no downvotes and no spending, all on one day
    engine = Engine()
    capped_peak: dict[str, int] = {}

    def watch(world, engine, reference):
        for user in PEOPLE:
            stands = Reference.should_stand(world).items()
            total = sum(base for (u, _), (base, capped) in stands if u == user and capped)
            capped_peak[user] = max(capped_peak.get(user, 0), total)

    # When the changes are settled
    world = run(ops, engine, check_each_step=watch)
    # Then, for whoever never had more than the cap's worth standing, the balance is exactly the rules
    # applied to what stands at the end; for the others, votes and marks gave at most the cap
    stands = Reference.should_stand(world)
    for user in PEOPLE:
        uncapped = sum(base for (u, _), (base, c) in stands.items() if u == user and not c)
        if capped_peak.get(user, 0) <= DAILY_CAP:
            assert engine.balance(user) == sum(base for (u, _), (base, _) in stands.items() if u == user)
        else:
            assert uncapped <= engine.balance(user) <= DAILY_CAP + uncapped
        assert engine.balance(user) == sum(engine.ledger.get(user, []))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(ANSWERS)), st.sampled_from(VOTERS + CROWD)), min_size=1,
                max_size=80, unique=True))
def test_on_one_day_upvotes_give_at_most_the_cap(upvotes):
    engine = Engine()
    world = run([("vote", answer, voter, 1) for answer, voter in upvotes], engine)
    for user in PEOPLE:
        stands = sum(base for (u, _), (base, _) in Reference.should_stand(world).items() if u == user)
        assert engine.balance(user) == min(stands, DAILY_CAP)


def test_a_new_utc_day_brings_new_room_and_old_reversals_do_not_touch_it():
    # Given alice capped on the first day (24 upvotes worth 240, 200 given)
    engine, reference = Engine(), Reference()
    ops = [("crowd", "a1", 12, 1), ("vote", "a3", "v0", 1), ("crowd", "a3", 11, 1)]
    # When the next day brings two more upvotes, then an upvote of the first day is withdrawn
    ops += [("next_day", "", "", 0), ("vote", "a1", "bob", 1), ("vote", "a3", "sam", 1), ("vote", "a1", "c0", 0)]
    run(ops, engine, reference, check_each_step=invariants)
    # Then 200 + 20 - 10
    assert engine.balance("alice") == 210
    assert engine.purses["alice"].capped_by_day == {DAYS[0]: 190, DAYS[1]: 20}
