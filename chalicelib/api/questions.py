"""Purchase advice: questions, answers, acceptance and votes."""

from typing import TYPE_CHECKING

from chalicelib.http import Api
from chalicelib.schemas import lazy_models
from chalicelib.services import questions

if TYPE_CHECKING:
    from chalicelib.schemas.advice import (
        AcceptanceOut,
        AcceptAnswer,
        AnswerOut,
        AskQuestion,
        CastVote,
        EditAnswer,
        EditQuestion,
        PostAnswer,
        QuestionOut,
        VoteOut,
    )
else:
    (
        AcceptanceOut, AcceptAnswer, AnswerOut, AskQuestion, CastVote, EditAnswer, EditQuestion, PostAnswer,
        QuestionOut, VoteOut,
    ) = lazy_models(
        "chalicelib.schemas.advice",
        "AcceptanceOut", "AcceptAnswer", "AnswerOut", "AskQuestion", "CastVote", "EditAnswer", "EditQuestion",
        "PostAnswer", "QuestionOut", "VoteOut",
    )

api = Api(__name__, tag="questions")
blueprint = api.blueprint


@api.route("POST", "/questions", summary="Ask for purchase advice", body=AskQuestion, response=QuestionOut,
           status=201)
def ask_question(ctx):
    body = ctx.body
    return questions.ask(ctx.user, body.title, body.body, body.labels, body.product_ids)


@api.route("GET", "/questions", summary="Questions, newest first, optionally of one label", response=QuestionOut,
           paginated=True, query={"label": "Only questions with this label (see GET /labels)"})
def list_questions(ctx):
    return questions.list_questions(ctx.query.get("label"), ctx.page)


@api.route("GET", "/questions/{question_id}", summary="A question with its answer count and accepted answer",
           response=QuestionOut)
def get_question(ctx, question_id):
    return questions.question(question_id, ctx.user.user_id, admin=ctx.user.in_group("admins"))


@api.route("POST", "/questions/{question_id}/answers", summary="Answer a question (not one whose asker blocks you)",
           body=PostAnswer, response=AnswerOut, status=201, errors=(403,))
def post_answer(ctx, question_id):
    return questions.answer(ctx.user, question_id, ctx.body.body)


@api.route("GET", "/questions/{question_id}/answers",
           summary="A question's answers: accepted first, then by score, then oldest", response=AnswerOut,
           paginated=True)
def list_answers(ctx, question_id):
    return questions.list_answers(ctx.user, question_id, ctx.page)


@api.route("POST", "/questions/{question_id}/accept", summary="Accept an answer (asker only); moves any earlier "
           "acceptance", body=AcceptAnswer, response=AcceptanceOut, errors=(403,))
def accept_answer(ctx, question_id):
    return questions.accept(ctx.user, question_id, ctx.body.answer_id)


@api.route("PUT", "/answers/{answer_id}/vote", summary="Vote on an answer: 1 up, -1 down, 0 withdraws",
           body=CastVote, response=VoteOut, errors=(403,))
def vote_on_answer(ctx, answer_id):
    return questions.vote(ctx.user, answer_id, ctx.body.value)


@api.route("DELETE", "/questions/{question_id}/accept", summary="Withdraw the acceptance (asker only); its points "
           "are reversed. Idempotent", response=QuestionOut, errors=(403,))
def withdraw_acceptance(ctx, question_id):
    return questions.withdraw_acceptance(ctx.user, question_id)


@api.route("PATCH", "/questions/{question_id}", summary="Edit a question's title, body or labels (asker only)",
           body=EditQuestion, response=QuestionOut, errors=(403,))
def edit_question(ctx, question_id):
    return questions.edit_question(ctx.user, question_id, ctx.body.model_dump(exclude_unset=True, exclude_none=True))


@api.route("DELETE", "/questions/{question_id}", summary="Delete a question without answers (asker only)",
           status=204, errors=(403, "HasAnswers"))
def delete_question(ctx, question_id):
    questions.delete_question(ctx.user, question_id)


@api.route("PATCH", "/answers/{answer_id}", summary="Edit an answer (author only)", body=EditAnswer,
           response=AnswerOut, errors=(403,))
def edit_answer(ctx, answer_id):
    return questions.edit_answer(ctx.user, answer_id, ctx.body.body)


@api.route("DELETE", "/answers/{answer_id}", summary="Delete an answer that is not accepted (author only); its "
           "vote points and expert score are reversed", status=204, errors=(403, "AnswerAccepted"))
def delete_answer(ctx, answer_id):
    questions.delete_answer(ctx.user, answer_id)
