"""Points and expert leaderboards."""

from typing import TYPE_CHECKING

from chalicelib.domain.labels import LABEL_IDS
from chalicelib.errors import BadRequest
from chalicelib.http import Api
from chalicelib.schemas import lazy_models
from chalicelib.services import experts, points

if TYPE_CHECKING:
    from chalicelib.schemas.points import LeaderboardEntryOut, LedgerEntryOut, PointsOut
else:
    (
        LeaderboardEntryOut, LedgerEntryOut, PointsOut,
    ) = lazy_models(
        "chalicelib.schemas.points",
        "LeaderboardEntryOut", "LedgerEntryOut", "PointsOut",
    )

api = Api(__name__, tag="points")
blueprint = api.blueprint


@api.route("GET", "/me/points", summary="The caller's points balance and lifetime earnings", response=PointsOut)
def get_my_points(ctx):
    return points.get_points(ctx.user.user_id)


@api.route("GET", "/me/points/ledger", summary="Every award, penalty, reversal and spend, newest first",
           response=LedgerEntryOut, paginated=True)
def list_my_ledger(ctx):
    return points.list_ledger(ctx.user.user_id, ctx.page)


@api.route("GET", "/leaderboards/{label}", summary="Top experts of a label by expert score",
           response=LeaderboardEntryOut, paginated=True)
def get_leaderboard(ctx, label):
    if label not in LABEL_IDS:
        raise BadRequest(f"label: unknown label {label!r}; see GET /labels")
    return experts.leaderboard(label, ctx.page)
