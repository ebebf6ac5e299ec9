"""Discovery: search by name prefixes, and who to follow."""

from typing import TYPE_CHECKING

from chalicelib.domain.search import MAX_QUERY_LENGTH, SEARCHABLE, TYPES
from chalicelib.http import Api, Query
from chalicelib.schemas import lazy_models
from chalicelib.services import search, suggestions

if TYPE_CHECKING:
    from chalicelib.schemas.search import FollowSuggestion, SearchHit
else:
    FollowSuggestion, SearchHit = lazy_models("chalicelib.schemas.search", "FollowSuggestion", "SearchHit")

api = Api(__name__, tag="discovery")
blueprint = api.blueprint


@api.route("GET", "/search", summary="Users, stores, products, questions or circles whose name has every word of "
           "`q` as a word prefix (case- and width-folded; Chinese matched by characters)",
           response=SearchHit, paginated=True,
           query={"q": Query("Words or word prefixes (at least one of 2+ letters, or a Chinese character)",
                             required=True, max_length=MAX_QUERY_LENGTH, pattern=SEARCHABLE),
                  "type": Query("What to search", required=True, enum=TYPES)})
def search_names(ctx):
    return search.search(ctx.user, ctx.query.get("q"), ctx.query.get("type"), ctx.page)


@api.route("GET", "/suggestions/follow", summary="Experts and rated stores of the caller's labels to follow "
           "(not followed yet, not blocked either way), best first", response=FollowSuggestion, paginated=True)
def suggest_follows(ctx):
    return suggestions.suggest_follows(ctx.user, ctx.page)
