"""RFC 9457 problem+json errors: one shape for every failure, never a stack trace to the caller."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import BaseModel, ConfigDict, Field

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
    def __init__(self, detail: str, title: str = "Not found") -> None:
        super().__init__(404, title, detail)


class Conflict(ProblemError):
    """The request is valid but clashes with the current state (a duplicate, a refused change)."""

    def __init__(self, detail: str, title: str = "Conflict") -> None:
        super().__init__(409, title, detail)


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


class Problem(BaseModel):
    """RFC 9457 problem details: what every error answer of this API looks like."""

    model_config = ConfigDict(extra="allow")
    type: str = Field("about:blank", examples=["about:blank"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str | None = Field(None, examples=["no job 'abc' for this tenant"])
    instance: str | None = Field(None, description="the request path", examples=["/api/v1/jobs/abc"])
    request_id: str | None = Field(None, description="quote it when reporting a problem")


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(Problem):
    errors: list[ValidationIssue] = Field(description="one entry per invalid field")


def _problem_content(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


# declared on every API router (Dispatch: APIRouter(responses=...)), so clients see the real shape
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem_content("Problem", "No valid API key or token"),
    403: _problem_content("Problem", "Your role or tenant may not do this"),
    404: _problem_content("Problem", "Not found in your tenant"),
    422: _problem_content("ValidationProblem", "The request is invalid; `errors` says where"),
    429: _problem_content("Problem", "Rate limit reached; see Retry-After and RateLimit-* headers"),
    503: _problem_content("Problem", "The capability is unavailable; `detail` says why"),
}


def install_problem_schemas(app: FastAPI) -> None:
    """Put Problem and ValidationProblem into the OpenAPI components the responses above refer to."""
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build_openapi()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            definitions = ValidationProblem.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(definitions.pop("$defs", {}))
            components["ValidationProblem"] = definitions
            components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            if "#/components/schemas/HTTPValidationError" not in json.dumps(schema.get("paths", {})):
                components.pop("HTTPValidationError", None)  # FastAPI's default shape, which we never send
                components.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


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
