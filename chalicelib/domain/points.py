"""The points economy's rules: rewards, the daily cap, the floor, expert levels and coupon rules.

Plain Python, no storage. A *cause* (one vote, one acceptance, one helpful mark) gives a user at
most one *standing award* at a time. When the cause changes, `settle` reverses exactly what the
standing award actually gave (which the cap or the floor may have made smaller than the rule's
amount), even into a debt, and grants the new one, returning the ledger postings and the wallet as
it must be afterwards. So the balance is always what the standing awards gave less what was spent.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain.ids import CROCKFORD_ALPHABET

VOTE_UP = 10
VOTE_DOWN = -2
ACCEPTED_ANSWER = 15
ACCEPTING_ASKER = 2
HELPFUL_REVIEW = 5
DAILY_CAP = 200  # points per user per UTC day from votes and helpful marks
CAP_DAYS_KEPT = 7  # days of cap tallies a wallet keeps (streams replay at most 24 h back)

EXPERT_LEVELS = ((3, 200), (2, 50), (1, 10))  # (level, score needed), highest first

REVERSAL_REASONS = {
    "answer_upvoted": "upvote_withdrawn",
    "answer_downvoted": "downvote_withdrawn",
    "answer_accepted": "acceptance_moved",
    "accepted_an_answer": "acceptance_moved",
    "review_marked_helpful": "helpful_mark_withdrawn",
}
COUPON_REDEEMED = "coupon_redeemed"


# -- rewards -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Award:
    """What a cause gives by the rules while it stands: `amount` (negative for a penalty)."""

    amount: int
    reason: str
    capped: bool  # counts towards the daily cap (votes and helpful marks; not acceptances)


@dataclass(frozen=True)
class Standing:
    """What a cause's current award actually gave, remembered so its reversal is exact."""

    amount: int
    reason: str
    day: str
    capped: bool


@dataclass(frozen=True)
class Purse:
    balance: int = 0
    lifetime_earned: int = 0
    capped_by_day: Mapping[str, int] = field(default_factory=dict)

    def capped_on(self, day: str) -> int:
        return int(self.capped_by_day.get(day, 0))


@dataclass(frozen=True)
class Posting:
    amount: int
    reason: str


@dataclass(frozen=True)
class Settlement:
    postings: tuple[Posting, ...]
    purse: Purse
    standing: Standing | None


def settle(purse: Purse, standing: Standing | None, award: Award | None, day: str) -> Settlement:
    """Reverse `standing` (if any), then grant `award` (if any) on UTC `day`.

    - A reversal takes back (or returns) exactly what the standing award recorded, even when that
      leaves the balance below 0: a debt. Points once spent cannot be earned again by moving an
      acceptance or by withdrawing and re-casting votes.
    - A positive capped award gives at most what is left of the day's cap (maybe 0). Reversing one
      frees room on the day it was given only by what the reversal took back: the tally of a day is
      the sum of that day's capped awards that still stand.
    - A penalty takes at most what the balance holds above 0: it floors at 0 and never deepens a debt.
    - Every posting records the amount that actually moved.
    """
    balance, earned = purse.balance, purse.lifetime_earned
    tally = {d: int(n) for d, n in purse.capped_by_day.items()}
    postings: list[Posting] = []
    if standing is not None:
        reason = REVERSAL_REASONS.get(standing.reason, f"{standing.reason}_reversed")
        taken = standing.amount  # a returned penalty is a negative taking
        balance -= taken
        if taken > 0:
            earned = max(0, earned - taken)
            if standing.capped and standing.day in tally:
                tally[standing.day] = max(0, tally[standing.day] - taken)
        postings.append(Posting(-taken, reason))
    new_standing = None
    if award is not None:
        if award.amount >= 0:
            given = award.amount
            if award.capped:
                given = max(0, min(given, DAILY_CAP - tally.get(day, 0)))
                tally[day] = tally.get(day, 0) + given
            balance += given
            earned += given
            moved = given
        else:
            moved = -min(-award.amount, max(balance, 0))
            balance += moved
        postings.append(Posting(moved, award.reason))
        new_standing = Standing(moved, award.reason, day, award.capped)
    return Settlement(tuple(postings), Purse(balance, earned, _recent(tally, day)), new_standing)


def _recent(tally: dict[str, int], day: str) -> dict[str, int]:
    """Drop tallies of days no stream record can still belong to, and empty ones."""
    cutoff = (datetime.strptime(day, "%Y-%m-%d") - timedelta(days=CAP_DAYS_KEPT)).strftime("%Y-%m-%d")
    return {d: n for d, n in sorted(tally.items()) if n > 0 and d >= cutoff}


def utc_day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class Transition:
    """`user_id`'s award for `cause` becomes `award` (None: the cause no longer stands)."""

    user_id: str
    cause: str
    award: Award | None
    ref: str


def vote_award(value: int | None) -> Award | None:
    if value == 1:
        return Award(VOTE_UP, "answer_upvoted", capped=True)
    if value == -1:
        return Award(VOTE_DOWN, "answer_downvoted", capped=True)
    return None


def _transitions(cause: str, ref: str, old: tuple[str | None, Award | None],
                 new: tuple[str | None, Award | None]) -> list[Transition]:
    (old_user, old_award), (new_user, new_award) = old, new
    if old_user == new_user:
        if old_award == new_award or new_user is None:
            return []
        return [Transition(new_user, cause, new_award, ref)]
    moves = []
    if old_user is not None and old_award is not None:
        moves.append(Transition(old_user, cause, None, ref))
    if new_user is not None and new_award is not None:
        moves.append(Transition(new_user, cause, new_award, ref))
    return moves


def vote_transitions(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[Transition]:
    """An AnswerVote item (present while the vote stands) moves its answer author's award."""
    item = new or old
    if not item:
        return []
    cause = f"vote#{item['answer_id']}#{item['voter_id']}"

    def side(vote: Mapping[str, Any] | None) -> tuple[str | None, Award | None]:
        if not vote or vote.get("author_id") in (None, vote.get("voter_id")):
            return None, None
        return vote["author_id"], vote_award(vote.get("value"))

    return _transitions(cause, item["answer_id"], side(old), side(new))


def acceptance_transitions(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[Transition]:
    """An Answer's `accepted` flag: +15 to its author and +2 to the asker while it is set.

    Accepting one's own answer rewards nobody.
    """
    item = new or old
    if not item:
        return []
    answer_id = item["answer_id"]

    def accepted(answer: Mapping[str, Any] | None) -> bool:
        return bool(answer and answer.get("accepted") and answer.get("author_id") != answer.get("asker_id"))

    def side(answer: Mapping[str, Any] | None, role: str) -> tuple[str | None, Award | None]:
        if not accepted(answer):
            return None, None
        assert answer is not None
        if role == "author":
            return answer["author_id"], Award(ACCEPTED_ANSWER, "answer_accepted", capped=False)
        return answer["asker_id"], Award(ACCEPTING_ASKER, "accepted_an_answer", capped=False)

    return [
        *_transitions(f"accepted#{answer_id}", answer_id, side(old, "author"), side(new, "author")),
        *_transitions(f"accepting#{answer_id}", answer_id, side(old, "asker"), side(new, "asker")),
    ]


def helpful_transitions(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[Transition]:
    """A HelpfulMark item (present while the mark stands) gives its reviewer +5."""
    item = new or old
    if not item:
        return []
    cause = f"helpful#{item['review_id']}#{item['user_id']}"

    def side(mark: Mapping[str, Any] | None) -> tuple[str | None, Award | None]:
        if not mark or mark.get("reviewer_id") in (None, mark.get("user_id")):
            return None, None
        return mark["reviewer_id"], Award(HELPFUL_REVIEW, "review_marked_helpful", capped=True)

    return _transitions(cause, item["review_id"], side(old), side(new))


# -- experts -------------------------------------------------------------------------------------
def level_for(score: int) -> int:
    for level, needed in EXPERT_LEVELS:
        if score >= needed:
            return level
    return 0


def level_mark(label: str, level: int) -> str:
    """How a reached level is kept on the profile (for the user card): "label#level"."""
    return f"{label}#{level}"


def reached_levels(marks: Iterable[str]) -> dict[str, int]:
    """{label: highest level} from the profile's marks (a label may hold several: levels only rise)."""
    levels: dict[str, int] = {}
    for mark in marks:
        label, _, level = mark.rpartition("#")
        if label and level.isascii() and level.isdigit() and int(level) > 0:
            levels[label] = max(levels.get(label, 0), int(level))
    return levels


def raised_level(level: int, score: int) -> int:
    """Levels are reached, never lost."""
    return max(level, level_for(score))


def _contributions(item: Mapping[str, Any] | None, user_field: str, actor_field: str,
                   weight: int) -> dict[tuple[str, str], int]:
    if not item or item.get(user_field) in (None, item.get(actor_field)) or not weight:
        return {}
    return {(item[user_field], label): weight for label in item.get("labels") or ()}


def _net(old: dict[tuple[str, str], int], new: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    moves = {key: new.get(key, 0) - old.get(key, 0) for key in set(old) | set(new)}
    return {key: delta for key, delta in sorted(moves.items()) if delta}


def vote_score_moves(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[tuple[str, str], int]:
    """(author, label) -> change of expert score: an upvote counts +1, a downvote -1."""

    def weight(vote: Mapping[str, Any] | None) -> int:
        value = (vote or {}).get("value")
        return value if value in (1, -1) else 0

    return _net(_contributions(old, "author_id", "voter_id", weight(old)),
                _contributions(new, "author_id", "voter_id", weight(new)))


def helpful_score_moves(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[tuple[str, str], int]:
    """(reviewer, label) -> change of expert score: a standing helpful mark counts +1."""
    return _net(_contributions(old, "reviewer_id", "user_id", 1), _contributions(new, "reviewer_id", "user_id", 1))


# -- coupons -------------------------------------------------------------------------------------
CODE_ALPHABET = CROCKFORD_ALPHABET  # 5 bits a character
CODE_LENGTH = 16  # 80 random bits
MAX_CAMPAIGN_DAYS = 366 * 2

REFUSALS = ("Expired", "SoldOut", "LimitReached", "InsufficientPoints")  # most final first


def new_coupon_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What a cashier types: any case, dashes or spaces, and Crockford's look-alikes (O, I, L)."""
    cleaned = text.strip().upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans("OIL", "011"))


def parse_instant(text: str) -> datetime:
    """An ISO 8601 date-time with a zone, in UTC."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time such as 2030-01-31T23:59:59Z") from None
    if moment.tzinfo is None:
        raise ValueError("must include a time zone (e.g. Z for UTC)")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None


def parse_expiry(text: str, now: datetime) -> datetime:
    """An ISO 8601 instant with a zone, in the future and at most two years ahead."""
    moment = parse_instant(text)
    if moment <= now:
        raise ValueError("must be in the future")
    if moment > now + timedelta(days=MAX_CAMPAIGN_DAYS):
        raise ValueError(f"must be within {MAX_CAMPAIGN_DAYS} days")
    return moment


def can_redeem(balance: int, cost: int) -> bool:
    """A coupon is paid from points one has: a balance below 0 (a debt) redeems nothing, not even a free one."""
    return balance >= 0 and balance >= cost


def refusal(failed: set[str]) -> str | None:
    """Which of the redeem checks that failed a client hears about: the most final one."""
    for code in REFUSALS:
        if code in failed:
            return code
    return None


def coupon_status(status: str, expires_at: str, now_iso: str) -> str:
    """`issued` coupons past their expiry read as `expired`; ISO UTC strings compare as times."""
    if status == "issued" and expires_at <= now_iso:
        return "expired"
    return status
