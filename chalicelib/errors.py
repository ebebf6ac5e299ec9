"""Domain errors, and the one place they become HTTP responses.

Services raise these; `chalicelib.http` turns them into Chalice's `{"Code", "Message"}` shape.
A `code` other than the default names a specific refusal clients can branch on (`SoldOut`).
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "BadRequestError"

    def __init__(self, message: str, *, code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.headers = headers or {}


class BadRequest(DomainError):
    status = 400
    code = "BadRequestError"


class Unauthorized(DomainError):
    status = 401
    code = "UnauthorizedError"


class AccountDeleted(Unauthorized):
    """The account was erased (DELETE /me): its remaining tokens may read, but `/me` and writes are refused."""

    code = "AccountDeleted"

    def __init__(self, message: str = "This account has been deleted"):
        super().__init__(message)


class Forbidden(DomainError):
    status = 403
    code = "ForbiddenError"


class NotFound(DomainError):
    status = 404
    code = "NotFoundError"


class Conflict(DomainError):
    status = 409
    code = "ConflictError"


class TooManyRequests(DomainError):
    status = 429
    code = "TooManyRequestsError"


class ServiceUnavailable(DomainError):
    status = 503
    code = "ServiceUnavailableError"


class Busy(DomainError):
    """Contention outlasted the bounded retries (`models.transactions.retry_on_conflict`): try later."""

    status = 503
    code = "Busy"

    def __init__(self, message: str, *, retry_after: int = 1):
        super().__init__(message, headers={"Retry-After": str(retry_after)})


def error_body(code: str, message: str) -> dict:
    return {"Code": code, "Message": message}


def to_response(error: DomainError):
    from chalice import Response

    return Response(
        body=error_body(error.code, error.message),
        status_code=error.status,
        headers={"Content-Type": "application/json", **error.headers},
    )
