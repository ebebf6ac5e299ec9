"""Questions, answers, acceptance and votes: the use cases behind the purchase-advice routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from chalicelib.auth import Caller
from chalicelib.domain.advice import (
    MAX_ID_LENGTH,
    acceptance_moves,
    answer_rank,
    created_at_of,
    plausible_id,
    question_index_keys,
    question_list_partitions,
)
from chalicelib.domain.changes import BatchFailures, Change, per_batch
from chalicelib.domain.ids import new_id, now_iso
from chalicelib.domain.moderation import hides
from chalicelib.errors import BadRequest, Conflict, Forbidden, NotFound
from chalicelib.models.advice import Answer, AnswerVote, LabelIndexEntry, Question
from chalicelib.models.base import batch_get, delete_if, get_or_404, get_or_none, save_if, update_if
from chalicelib.models.graph import Block
from chalicelib.models.transactions import Transaction, TransactionFailed, retry_on_conflict
from chalicelib.pagination import Page, PageRequest
from chalicelib.schemas import lazy_models
from chalicelib.services.cards import CardRead, Cards, read_cards, token_card

if TYPE_CHECKING:
    from chalicelib.schemas.advice import AcceptanceOut, AnswerOut, QuestionOut, VoteOut
    from chalicelib.schemas.cards import UserCard
else:
    (
        AcceptanceOut, AnswerOut, QuestionOut, VoteOut,
    ) = lazy_models(
        "chalicelib.schemas.advice",
        "AcceptanceOut", "AnswerOut", "QuestionOut", "VoteOut",
    )
    UserCard, = lazy_models("chalicelib.schemas.cards", "UserCard")


def question_view(question: Question, cards: Cards) -> QuestionOut:
    """The question with its asker's card and its products' cards (`cards` holds them)."""
    return QuestionOut.from_item(question, cards.users[question.asker_id], cards.products)


def answer_view(answer: Answer, author: UserCard, my_vote: int = 0) -> AnswerOut:
    return AnswerOut.from_item(answer, author, my_vote)


# --- Questions -----------------------------------------------------------------------------------


def ask(caller: Caller, title: str, body: str, labels: list[str], product_ids: list[str]) -> QuestionOut:
    """The question and its LabelIndex entries (one per label, plus "all", each in the question's
    shard of that list) in one transaction."""
    product_ids = list(dict.fromkeys(product_ids))
    if product_ids or not caller.display_name:
        # the product check and the cards in one read (the products' stores in one more)
        cards = read_cards(user_ids=[caller.user_id], product_ids=product_ids)
    else:  # no read at all: the asker's card from the token
        cards = Cards(users={caller.user_id: token_card(caller.user_id, caller.display_name)})
    missing = [pid for pid in product_ids if not cards.products[pid].available]
    if missing:
        raise BadRequest(f"product_ids: unknown product {missing[0]}")
    product_merchants = {pid: card.merchant.merchant_id for pid, card in cards.products.items() if card.merchant}
    question_id = new_id()
    created_at = created_at_of(question_id)
    question = Question(
        question_id,
        asker_id=caller.user_id,
        title=title,
        body=body,
        labels=list(labels),
        product_ids=product_ids,
        product_merchants=product_merchants,
        answer_count=0,
        created_at=created_at,
    )
    with Transaction() as transaction:
        transaction.put("question", question, condition=Question.question_id.does_not_exist())
        for key in question_index_keys(question_id, labels):
            transaction.put("index entry", LabelIndexEntry(key, question_id, created_at=created_at,
                                                           asker_id=caller.user_id,
                                                           product_merchants=product_merchants))
    return question_view(question, cards)


def get_question(question_id: str) -> Question:
    if not plausible_id(question_id):
        raise NotFound(f"No question {question_id[:MAX_ID_LENGTH]}")
    return get_or_404(Question, question_id, what="question")


def _read_question(question_id: str) -> Question:
    """A consistent read, for a write conditioned on what it shows."""
    if not plausible_id(question_id):
        raise NotFound(f"No question {question_id[:MAX_ID_LENGTH]}")
    return get_or_404(Question, question_id, what="question", consistent_read=True)


def question(question_id: str, viewer_id: str | None = None, *, admin: bool = False) -> QuestionOut:
    """A removed question is 404 but to its asker and admins (who see `removed_at`)."""
    item = get_question(question_id)
    if hides(item.removed_at, viewer_is_owner=item.asker_id == viewer_id, viewer_is_admin=admin):
        raise NotFound(f"No question {question_id}")
    return question_view(item, questions_cards([item]))


def questions_cards(questions: list[Question]) -> Cards:
    """The askers' and the products' cards of these questions: one BatchGetItem."""
    return read_cards(user_ids=[q.asker_id for q in questions],
                      product_ids=[pid for q in questions for pid in q.product_ids or []],
                      merchant_of=_merchants_of(questions))


def _merchants_of(items) -> dict[str, str]:
    merchant_of: dict[str, str] = {}
    for item in items:
        kept = item.product_merchants
        merchant_of.update(kept.as_dict() if kept is not None else {})
    return merchant_of


def list_questions(label: str | None, page: PageRequest) -> Page:
    """Newest first: one Query per shard of the label's LabelIndex list (4, in parallel), merged,
    then ONE BatchGetItem of the page's questions and their cards (the index entries name the askers
    and the products' stores; the products are those the stores were recorded for)."""
    from chalicelib.domain.labels import LABEL_IDS

    if label is not None and label not in LABEL_IDS:
        raise BadRequest(f"label: unknown label {label!r}; see GET /labels")
    from chalicelib.services.label_lists import newest_in_label_index

    entries, next_cursor = newest_in_label_index(question_list_partitions(label), page)
    if not entries:
        return Page(items=[], next_cursor=next_cursor)
    merchant_of = _merchants_of(entries)
    read = CardRead(user_ids=[entry.asker_id for entry in entries], product_ids=list(merchant_of),
                    merchant_of=merchant_of)
    card_keys = read.keys()
    found = batch_get([(Question, entry.item_id, None) for entry in entries] + card_keys)
    cards = read.build(found[len(entries):])
    questions = [q for q in found[:len(entries)] if q is not None and not q.removed_at]
    if any(q.asker_id not in cards.users or set(q.product_ids or []) - set(cards.products) for q in questions):
        cards = questions_cards(questions)  # entries written without the copies: one more read
    items = [question_view(q, cards) for q in questions]
    return Page(items=items, next_cursor=next_cursor)


def edit_question(caller: Caller, question_id: str, changes: dict) -> QuestionOut:
    """PATCH, asker only. New labels move its LabelIndex entries (the old ones deleted, the new put)
    in the same transaction as the question, on condition that its labels are still those read."""
    def attempt() -> Question:
        question = _read_question(question_id)
        if question.asker_id != caller.user_id:
            raise Forbidden("Only the asker may edit a question")
        old_labels = [str(label) for label in question.labels or []]
        with Transaction() as transaction:
            actions = [getattr(Question, name).set(value) for name, value in changes.items()]
            transaction.update("question", question, actions=actions,
                               condition=Question.labels == old_labels, retry_if_false=True)
            if "labels" in changes:
                old_keys = set(question_index_keys(question_id, old_labels))
                new_keys = question_index_keys(question_id, changes["labels"])
                for key in old_keys - set(new_keys):
                    transaction.delete("index entry", LabelIndexEntry(key, question_id))
                for key in new_keys:
                    if key not in old_keys:
                        transaction.put("index entry", LabelIndexEntry(
                            key, question_id, created_at=question.created_at, asker_id=question.asker_id,
                            product_merchants=_merchants_of([question])))
        for name, value in changes.items():
            setattr(question, name, value)
        return question

    item = retry_on_conflict(attempt, what="this question")
    return question_view(item, questions_cards([item]))


def delete_question(caller: Caller, question_id: str) -> None:
    """DELETE, asker only; 409 `HasAnswers` once it has answers. The question and its index entries go
    in one transaction, on condition it still counts no answer; `answer` checks the question in its
    own transaction, so no answer is stored for a question that is gone."""
    question = get_question(question_id)
    if question.asker_id != caller.user_id:
        raise Forbidden("Only the asker may delete a question")
    has_answers = int(question.answer_count or 0) > 0 or any(
        True for _ in Answer.by_question.query(question_id, limit=1))
    if has_answers:
        raise Conflict("This question has answers", code="HasAnswers")
    try:
        with Transaction() as transaction:
            transaction.delete("question", question, condition=Question.answer_count == 0)
            for key in question_index_keys(question_id, [str(label) for label in question.labels or []]):
                transaction.delete("index entry", LabelIndexEntry(key, question_id))
    except TransactionFailed as exc:
        if exc.failed_on("question"):
            raise Conflict("This question has answers", code="HasAnswers") from None
        raise


# --- Answers -------------------------------------------------------------------------------------


def answer(caller: Caller, question_id: str, body: str) -> AnswerOut:
    """The answer carries copies of the asker, the labels and the title of its question, so
    stream effects (notices, rewards, expert scores) need no further read. One BatchGetItem reads
    the question and the answerer's card."""
    if not plausible_id(question_id):
        raise NotFound(f"No question {question_id[:MAX_ID_LENGTH]}")
    me = CardRead(user_ids=[caller.user_id])
    question, *found = batch_get([(Question, question_id, None), *me.keys()])
    if question is None or question.removed_at:
        raise NotFound(f"No question {question_id}")
    my_card = me.build(found).users[caller.user_id]
    answer_id = new_id()
    item = Answer(
        answer_id,
        question_id=question_id,
        author_id=caller.user_id,
        asker_id=question.asker_id,
        labels=list(question.labels or []),
        question_title=question.title,
        body=body,
        score=0,
        upvotes=0,
        downvotes=0,
        accepted=False,
        rank=answer_rank(accepted=False, score=0, answer_id=answer_id),
        created_at=created_at_of(answer_id),
    )
    def attempt() -> None:
        try:
            with Transaction() as transaction:  # a question deleted meanwhile takes no answer
                transaction.check("question", Question, question_id, condition=Question.question_id.exists())
                if question.asker_id != caller.user_id:  # nor one from someone the asker blocks
                    transaction.check("block", Block, question.asker_id, caller.user_id,
                                      condition=Block.blocker_id.does_not_exist())
                transaction.put("answer", item, condition=Answer.answer_id.does_not_exist())
        except TransactionFailed as exc:
            if not exc.conflict and exc.failed_on("question"):
                raise NotFound(f"No question {question_id}") from None
            if not exc.conflict and exc.failed_on("block"):
                raise Forbidden("The asker does not let you answer their questions") from None
            raise

    retry_on_conflict(attempt, what="your answer")
    return answer_view(item, my_card)


def list_answers(caller: Caller, question_id: str, page: PageRequest) -> Page:
    """Accepted first, then higher score, then older: one Query on `by_question` (the `rank` sort
    key encodes that order), then one BatchGetItem for the question, the caller's votes and the
    answerers' cards."""
    if not plausible_id(question_id):
        raise NotFound(f"No question {question_id[:MAX_ID_LENGTH]}")
    results = Answer.by_question.query(question_id, limit=page.limit,
                                       last_evaluated_key=page.start_key(Answer.by_question, question_id))
    answers = list(results)
    authors = CardRead(user_ids=[a.author_id for a in answers])
    author_keys = authors.keys()
    found = batch_get(
        [(Question, question_id, None)] + [(AnswerVote, *AnswerVote.key(a.answer_id, caller.user_id)) for a in answers]
        + author_keys
    )
    if found[0] is None:
        raise NotFound(f"No question {question_id}")
    votes = found[1:1 + len(answers)]
    cards = authors.build(found[1 + len(answers):]).users
    items = [
        answer_view(a, cards[a.author_id], int(vote.value) if vote is not None else 0)
        for a, vote in zip(answers, votes, strict=True)
        if not a.removed_at  # moderation: out of the list
    ]
    return Page(items=items, next_cursor=page.next_cursor(results.last_evaluated_key))


def get_answer(answer_id: str) -> Answer:
    if not plausible_id(answer_id):
        raise NotFound(f"No answer {answer_id[:MAX_ID_LENGTH]}")
    return get_or_404(Answer, answer_id, what="answer")


def edit_answer(caller: Caller, answer_id: str, body: str) -> AnswerOut:
    """PATCH, author only: one conditional update of the body."""
    item = get_answer(answer_id)
    if item.author_id != caller.user_id:
        raise Forbidden("Only the author may edit an answer")
    if not update_if(item, [Answer.body.set(body)], Answer.author_id == caller.user_id):
        raise NotFound(f"No answer {answer_id}")
    item.body = body
    card = read_cards(user_ids=[caller.user_id]).users[caller.user_id]
    vote_item = batch_get([(AnswerVote, *AnswerVote.key(answer_id, caller.user_id))])[0]
    return answer_view(item, card, int(vote_item.value) if vote_item is not None else 0)


def delete_answer(caller: Caller, answer_id: str) -> None:
    """DELETE, author only; 409 `AnswerAccepted` while accepted. One conditional delete: the Answers
    REMOVE record drops the question's `answer_count`, and `remove_votes_of_removed_answer` deletes its
    votes, whose records reverse their points and expert scores through the existing vote effects."""
    item = get_answer(answer_id)
    if item.author_id != caller.user_id:
        raise Forbidden("Only the author may delete an answer")
    if item.accepted or not delete_if(item, Answer.accepted == False):  # noqa: E712 - a condition, not a test
        if batch_get([(Answer, answer_id, None)])[0] is None:
            return  # deleted meanwhile: done
        raise Conflict("An accepted answer cannot be deleted; the asker may withdraw the acceptance",
                       code="AnswerAccepted")


def accept(caller: Caller, question_id: str, answer_id: str) -> AcceptanceOut:
    """The asker accepts one answer; accepting another moves the acceptance.

    One transaction sets the question's `accepted_answer_id` and flips `accepted` (and `rank`)
    on both answers, each on condition that what was read still holds, so two racing acceptances
    leave exactly one accepted answer; a lost race reads again (under the one conflict rule).
    """
    if not plausible_id(question_id):
        raise NotFound(f"No question {question_id[:MAX_ID_LENGTH]}")

    def attempt() -> AcceptanceOut:
        question, chosen = batch_get([(Question, question_id, None), (Answer, answer_id, None)])
        if question is None:
            raise NotFound(f"No question {question_id}")
        if question.asker_id != caller.user_id:
            raise Forbidden("Only the asker may accept an answer")
        if chosen is None:
            raise NotFound(f"No answer {answer_id}")
        if chosen.question_id != question_id:
            raise BadRequest("answer_id: not an answer to this question")
        current_id = question.accepted_answer_id
        previous_id, changes = acceptance_moves(current_id, answer_id)
        if changes:
            previous = batch_get([(Answer, previous_id, None)])[0] if previous_id else None
            with Transaction() as transaction:
                transaction.update(
                    "question",
                    question,
                    actions=[Question.accepted_answer_id.set(answer_id)],
                    condition=(Question.accepted_answer_id == current_id)
                    if current_id
                    else Question.accepted_answer_id.does_not_exist(),
                    retry_if_false=True,
                )
                _set_accepted(transaction, chosen, True)
                if previous is not None:
                    _set_accepted(transaction, previous, False)
        return AcceptanceOut(question_id=question_id, accepted_answer_id=answer_id)

    return retry_on_conflict(attempt, what="this question's acceptance")


def withdraw_acceptance(caller: Caller, question_id: str) -> QuestionOut:
    """The asker withdraws the acceptance: a move to "no answer". The answer's `accepted` flag drops
    in the same transaction, so its Answers record (before accepted, after not) reverses the +15 and +2
    through `rewards.award_for_acceptance`, exactly as a move does. Idempotent."""
    def attempt() -> Question:
        question = _read_question(question_id)
        if question.asker_id != caller.user_id:
            raise Forbidden("Only the asker may withdraw an acceptance")
        current_id = question.accepted_answer_id
        if not current_id:
            return question
        previous = batch_get([(Answer, current_id, None)])[0]
        with Transaction() as transaction:
            transaction.update("question", question, actions=[Question.accepted_answer_id.remove()],
                               condition=Question.accepted_answer_id == current_id, retry_if_false=True)
            if previous is not None:
                _set_accepted(transaction, previous, False)
        question.accepted_answer_id = None
        return question

    item = retry_on_conflict(attempt, what="this question's acceptance")
    return question_view(item, questions_cards([item]))


def _set_accepted(transaction: Transaction, answer: Answer, accepted: bool) -> None:
    score = int(answer.score or 0)
    transaction.update(
        "answer",
        answer,
        actions=[
            Answer.accepted.set(accepted),
            Answer.rank.set(answer_rank(accepted=accepted, score=score, answer_id=answer.answer_id)),
        ],
        condition=(Answer.score == score) & (Answer.accepted == bool(answer.accepted)),
        retry_if_false=True,
    )


# --- Votes ---------------------------------------------------------------------------------------


def vote(caller: Caller, answer_id: str, value: int) -> VoteOut:
    """Set the caller's vote to 1 or -1, or withdraw it with 0.

    Each call is one conditional write of one vote item, so DynamoDB serialises racing calls and
    the item's stream records carry the exact before and after the tally (and rewards) work from.
    A call that would not change the vote writes nothing.
    """

    target = get_answer(answer_id)
    if target.author_id == caller.user_id:
        raise Forbidden("You cannot vote on your own answer")
    if value == 0:
        retry_on_conflict(AnswerVote.of(answer_id, caller.user_id).delete, what="your vote")
        return VoteOut(answer_id=answer_id, value=0)
    item = AnswerVote.of(
        answer_id,
        caller.user_id,
        value=value,
        author_id=target.author_id,
        question_id=target.question_id,
        labels=list(target.labels or []),
        updated_at=now_iso(),
    )
    if get_or_none(Block, target.author_id, caller.user_id) is not None:  # blocked by its author: 403
        raise Forbidden("The answer's author does not let you vote on their answers")
    condition = AnswerVote.voter_id.does_not_exist() | (AnswerVote.value != value)
    # ONE conditional write, no transaction: a check of the answer (or of the block) in a transaction
    # would put every vote of a storm on one item (1,000 votes a second: 1,000 transactions a second on
    # it, SPEC "Double-11 rules"); the block is read beside it instead (one GetItem on the author's
    # Blocks partition, reads that partition takes by the thousands). A vote that races its answer's
    # deletion is swept from the votes' stream (`remove_votes_of_missing_answers`). False: the same
    # vote again, nothing changes.
    retry_on_conflict(lambda: save_if(item, condition), what="your vote")
    return VoteOut(answer_id=answer_id, value=value)


def remove_votes_of_removed_answer(change: Change) -> None:
    """Answers stream effect: a deleted answer's votes are deleted, so each vote's REMOVE record
    reverses its tally, reward and expert score through the vote effects, exactly as a withdrawal.
    Idempotent: a replay finds fewer (or no) votes. A vote written after this sweep is deleted from
    the votes' stream (`remove_votes_of_missing_answers`)."""
    if change.kind != "REMOVE":
        return
    answer_id = change.keys.get("answer_id") or change.item.get("answer_id")
    if not answer_id:
        return
    votes = [vote_item for vote_key in AnswerVote.keys_of(answer_id)
             for vote_item in AnswerVote.query(vote_key, consistent_read=True)]
    with AnswerVote.batch_write() as batch:
        for vote_item in votes:
            batch.delete(vote_item)


@per_batch
def remove_votes_of_missing_answers(changes: Sequence[Change]) -> BatchFailures:
    """AnswerVotes stream, per batch: a vote that stands on an answer that is gone is deleted, and
    its REMOVE record reverses its tally, reward and expert score as a withdrawal does.

    `vote` is one conditional write (no check of the answer in a transaction: the hot item of a
    vote storm), so a vote may land just after its answer was deleted. If it landed before the
    answer's own sweep (`remove_votes_of_removed_answer`, a consistent Query) that sweep deletes it;
    if after, its record comes here after the answer was gone, and a consistent read shows it.
    ONE BatchGetItem of the batch's answers; idempotent (a replay finds the vote gone).
    """
    standing = [change for change in changes if change.new is not None and change.new.get("answer_id")]
    answer_ids = sorted({str(change.new["answer_id"]) for change in standing if change.new is not None})
    if not answer_ids:
        return {}
    found = batch_get([(Answer, answer_id, None) for answer_id in answer_ids], consistent=True)
    gone = {answer_id for answer_id, answer in zip(answer_ids, found, strict=True) if answer is None}
    for change in standing:
        new = change.new or {}
        if new["answer_id"] in gone:
            delete_if(AnswerVote.of(str(new["answer_id"]), str(new["voter_id"])), AnswerVote.voter_id.exists())
    return {}

