"""RFC 9457 problem+json errors: one shape for every failure, never a stack trace to the caller."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:  # FastAPI loads only where responses are built: CLIs raise these errors too
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

PROBLEM_JSON = "application/problem+json"
_SERVER_PATH = re.compile(r"(?<![\w:/.])/(?:[\w.@+-]+/)+([\w.@+-]*)")
log = structlog.get_logger("hygeia.errors")
AUDITED_DENIALS = frozenset({401, 403})


def without_server_paths(text: str) -> str:
    """Error text for callers: absolute server paths shrink to their last part (`…/upload.csv`)."""
    return _SERVER_PATH.sub(lambda match: "…/" + match.group(1), text)


class ProblemError(Exception):
    """An error the caller can act on; becomes a problem+json response."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        type_: str = "about:blank",
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.type = status, title, detail, type_
        self.extra = extra or {}
        self.headers = headers or {}


class InputError(ProblemError):
    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(422, "Invalid input", detail, extra=extra)


class NotFound(ProblemError):
    def __init__(self, detail: str) -> None:
        super().__init__(404, "Not found", detail)


class CapabilityUnavailable(ProblemError):
    """A capability whose model or data is missing says so instead of pretending to work."""

    def __init__(self, capability: str, reason: str) -> None:
        super().__init__(
            503,
            f"{capability} is unavailable",
            reason,
            type_="urn:hygeia:capability-unavailable",
            extra={"capability": capability},
        )


def problem_response(
    request: Request | None,
    status: int,
    title: str,
    detail: str = "",
    *,
    type_: str = "about:blank",
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if request is not None:
        body["instance"] = request.url.path
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            body["request_id"] = request_id
    body.update(extra or {})
    from fastapi.responses import JSONResponse

    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(err.get("loc", ())), "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))}
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        if exc.status in AUDITED_DENIALS:
            from hygeia.core.audit import record_denied  # audit depends on auth, which raises these

            record_denied(request, exc.status, exc.detail or exc.title)
        return problem_response(
            request, exc.status, exc.title, exc.detail, type_=exc.type, extra=exc.extra, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        return problem_response(
            request, 422, "Invalid request", f"{len(errors)} validation error(s)", extra={"errors": errors}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        return problem_response(
            request, exc.status_code, _title(exc.status_code), str(exc.detail), headers=headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled_error", path=request.url.path, error=type(exc).__name__, exc_info=exc)
        return problem_response(
            request, 500, "Internal server error", "the error was logged with this request id"
        )


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
