"""The endpoint wrapper: one API Gateway HTTP API (payload 2.0) event in, one response out.

It does, for every route and in this order: bound the body, authenticate as the
route table says, parse path, query and body into the route's models, call the
handler, serialize its result, and turn any error into an RFC 9457 problem.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast
from urllib.parse import parse_qsl

from aws_lambda_powertools import Logger

from licensing_core import strict_json, telemetry
from licensing_core.domain.errors import DomainError, Forbidden, NotFound, Unauthenticated
from licensing_core.domain.ids import utcnow
from licensing_core.http.problems import HttpProblem, from_error, problem_response, status_of
from licensing_core.routes import Access, Route, route_for
from licensing_core.settings import ConfigurationError, get_settings

if TYPE_CHECKING:  # imported by bearer routes only: applications' cold starts skip OIDC
    from licensing_core.identity.oidc import Principal
    from licensing_core.identity.roles import AdminRole

logger = Logger(service="licensing")

Event = Mapping[str, Any]
LambdaResponse = dict[str, Any]
BodyT = TypeVar("BodyT")

_PATH_PARAM = re.compile(r"^[A-Za-z0-9._~-]{1,128}$")
_JSON_MEDIA = re.compile(r"^application/([a-z0-9.+-]+\+)?json\s*(;.*)?$", re.IGNORECASE)
_FORM_MEDIA = re.compile(r"^application/x-www-form-urlencoded\s*(;.*)?$", re.IGNORECASE)
SECURITY_HEADERS = {"x-content-type-options": "nosniff", "cache-control": "no-store"}
#: Routes whose callers present an OIDC bearer token.
_BEARER_ACCESS = (Access.ADMIN, Access.END_USER)


@dataclass(frozen=True)
class Request(Generic[BodyT]):
    """What a handler receives: validated inputs and who is calling."""

    route: Route
    body: BodyT
    query: Any
    path: Mapping[str, str]
    principal: Principal | None
    #: On administrator routes: what the caller may manage.
    role: AdminRole | None
    headers: Mapping[str, str]
    source_ip: str
    user_agent: str
    request_id: str
    base_url: str

    @property
    def tenant(self) -> str | None:
        """The one tenant an administrator is limited to; None for every tenant."""
        return self.role.tenant if self.role else None

    @property
    def actor(self) -> str:
        """Who to record in audit trails: the caller's email, else subject."""
        if self.principal is None:
            return "anonymous"
        return self.principal.email or self.principal.subject


class _Invalid(Protocol):
    """What a model's ``model_validate`` raises (pydantic's ``ValidationError``, or
    ``licensing_core.plain.Invalid``): a ``ValueError`` that lists its problems."""

    def errors(self, *, include_url: bool, include_input: bool) -> list[Any]: ...


class Body(Protocol):
    """A JSON body: a pydantic model, or a plain one (``licensing_core.plain``: the
    application routes' functions never import pydantic)."""

    def model_dump_json(self, *, by_alias: bool = ...) -> str: ...


@dataclass(frozen=True)
class Reply:
    """A handler result that is not a model alone: HTML, bytes, or extra headers."""

    #: Bytes go base64-encoded (``isBase64Encoded``): binary or content-encoded bodies.
    body: Body | str | bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    status: int | None = None


Handler = Callable[[Request[Any]], Body | Reply]
LambdaHandler = Callable[[Event, Any], LambdaResponse]
#: Whose space an ``Idempotency-Key`` lives in, for a request: keys of different spaces
#: never meet (one licensee's key cannot collide with, or reveal, another's).
IdempotencySpace = Callable[[Request[Any]], str]


def endpoint(
    function: str, *, idempotency_space: IdempotencySpace | None = None
) -> Callable[[Handler], LambdaHandler]:
    """Turn a handler of validated requests into the Lambda entry point of ``function``.

    On idempotent routes, keys live in the caller's tenant and subject; a route whose
    callers carry no bearer (applications) names its space with ``idempotency_space``."""
    route = route_for(function)
    if route.idempotent and idempotency_space is None and route.access not in _BEARER_ACCESS:
        raise TypeError(f"{function} is idempotent: name whose space its keys live in")
    space = idempotency_space or _callers_space

    def decorate(handle: Handler) -> LambdaHandler:
        @functools.wraps(handle)
        def lambda_handler(event: Event, context: Any) -> LambdaResponse:
            with telemetry.flushing(context):
                return dispatch(route, handle, event, context, space)

        telemetry.init_done()  # the handler module's imports are done
        return lambda_handler

    return decorate


def dispatch(
    route: Route,
    handle: Handler,
    event: Event,
    lambda_context: Any = None,
    idempotency_space: IdempotencySpace | None = None,
) -> LambdaResponse:
    context = event.get("requestContext") or {}
    request_id = str(context.get("requestId", ""))
    logger.set_correlation_id(request_id)
    logger.append_keys(route=route.route_key)
    instance = str(event.get("rawPath", route.path))
    try:
        request = _parse(route, event, request_id)
        key = request.headers.get("idempotency-key")
        if route.idempotent and key is not None:
            from licensing_core.http import idempotency  # only routes that create things

            body = request.body.model_dump(mode="json") if request.body is not None else None
            return idempotency.once(
                route.function,
                key,
                (idempotency_space or _callers_space)(request),
                body,
                lambda: _respond(route, handle(request)),
                lambda_context,
            )
        return _respond(route, handle(request))
    except (DomainError, HttpProblem) as error:
        if status_of(error) < 500:
            logger.info("request refused", extra={"code": error.code})
        else:
            logger.warning("request failed", extra={"code": error.code})
        return from_error(
            error, instance=instance, request_id=request_id, base_url=_problem_base(event)
        )
    except Exception:
        logger.exception("unhandled error")
        return problem_response(
            500,
            "INTERNAL_ERROR",
            "Internal error",
            "An unexpected error occurred; it has been logged.",
            instance=instance,
            request_id=request_id,
            base_url=_problem_base(event),
        )


def _parse(route: Route, event: Event, request_id: str) -> Request[Any]:
    settings = get_settings()
    headers = _headers(event)
    raw_body = _body_bytes(event, settings.max_body_bytes)
    principal = _authenticate(route, headers)
    role = _authorize(route, principal)
    path = _path_params(route, event)
    tenant = role.tenant if role is not None else None
    if tenant is not None:  # before any validation can tell an id's records apart
        from licensing_core.services import tenancy  # reads storage: tenant admins only

        tenancy.require_owned(tenant, path)
    query = _validate(route.query, dict(event.get("queryStringParameters") or {}), "query")
    if tenant is not None and query is not None:
        tenancy.require_owned_by_body(tenant, query)  # ids naming a scope (``?tenantId=``)
    body = None
    if route.request is not None:
        if route.form and _FORM_MEDIA.match(headers.get("content-type", "")):
            document = _form_object(raw_body)
        else:
            document = _json_object(raw_body, headers)
        body = _validate(route.request, document, "body")
        if tenant is not None:
            tenancy.require_owned_by_body(tenant, body)
    http = (event.get("requestContext") or {}).get("http") or {}
    return Request(
        route=route,
        body=body,
        query=query,
        path=path,
        principal=principal,
        role=role,
        headers=headers,
        source_ip=str(http.get("sourceIp", "")),
        user_agent=str(http.get("userAgent", ""))[:512],
        request_id=request_id,
        base_url=_base_url(event, headers),
    )


def _headers(event: Event) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}


def _body_bytes(event: Event, limit: int) -> bytes:
    body = event.get("body") or ""
    if len(body) > limit * 4 // 3 + 4:  # refuse before decoding anything large
        raise _too_large(limit)
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as error:
            raise HttpProblem(
                400, "MALFORMED_BODY", "Malformed body", "body is not base64"
            ) from error
    else:
        data = body.encode("utf-8")
    if len(data) > limit:
        raise _too_large(limit)
    return data


def _too_large(limit: int) -> HttpProblem:
    return HttpProblem(
        413,
        "PAYLOAD_TOO_LARGE",
        "Payload too large",
        f"bodies are limited to {limit} bytes",
        maxBytes=limit,
    )


def _callers_space(request: Request[Any]) -> str:
    """A bearer's keys: its tenant (service accounts of one app client share a subject
    but not a tenant) and its subject."""
    if request.principal is None:
        raise TypeError(f"{request.route.function}: no caller to keep idempotency keys for")
    return f"tenant:{request.tenant or '*'}:{request.principal.subject}"


def _authenticate(route: Route, headers: Mapping[str, str]) -> Principal | None:
    if route.access not in _BEARER_ACCESS:
        return None
    authorization = headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if not authorization:
        raise Unauthenticated("a bearer token is required", code="MISSING_TOKEN")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    from licensing_core.identity.oidc import get_verifier

    return get_verifier().verify(token.strip())


def _authorize(route: Route, principal: Principal | None) -> AdminRole | None:
    """May this caller call this route at all (ids are checked once parsed)?"""
    if principal is None:
        return None
    role = None
    if route.people_only and principal.kind == "service":
        raise Forbidden("this route is for people, not service accounts", code="HUMAN_ONLY")
    if route.access is Access.ADMIN:
        from licensing_core.identity.roles import admin_role

        role = admin_role(principal, get_settings())
        if role.read_only and route.method != "GET":
            raise Forbidden("this token may only read", code="READ_ONLY")
        if role.tenant is not None and not route.tenant_admins:
            raise Forbidden(
                "this action needs a platform administrator", code="NOT_A_PLATFORM_ADMIN"
            )
    if route.step_up:
        from licensing_core.identity import stepup

        stepup.enforce(route.step_up, principal.claims, utcnow().timestamp())
    return role


def _path_params(route: Route, event: Event) -> dict[str, str]:
    given = event.get("pathParameters") or {}
    path: dict[str, str] = {}
    for name in route.path_params:
        value = given.get(name)
        if not isinstance(value, str) or not _PATH_PARAM.match(value):
            raise NotFound(f"no resource at {name}={str(value)[:64]!r}")
        path[name] = value
    return path


def _json_object(raw: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    if not raw.strip():
        return {}  # no body: the model decides whether that is enough
    if not _JSON_MEDIA.match(headers.get("content-type", "")):
        raise HttpProblem(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "Unsupported media type",
            "send the body as application/json",
        )
    try:
        document = strict_json.loads(raw)
    except strict_json.DuplicateMember as error:
        raise HttpProblem(400, "DUPLICATE_MEMBER", "Duplicate member", str(error)) from error
    except (UnicodeDecodeError, ValueError, RecursionError) as error:  # too deep, too long
        raise HttpProblem(
            400, "MALFORMED_JSON", "Malformed JSON", f"the body is not valid JSON: {error}"
        ) from error
    if not isinstance(document, dict):
        raise HttpProblem(400, "MALFORMED_JSON", "Malformed JSON", "the body must be a JSON object")
    return document


def _form_object(raw: bytes) -> dict[str, Any]:
    """An HTML form post as the object its JSON twin would be: one string per field."""
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=64
        )
    except (UnicodeDecodeError, ValueError) as error:  # bad UTF-8, too many fields
        raise HttpProblem(
            400, "MALFORMED_FORM", "Malformed form", "the body is not a valid URL-encoded form"
        ) from error
    document: dict[str, Any] = {}
    for name, value in pairs:
        if name in document:
            raise HttpProblem(400, "MALFORMED_FORM", "Malformed form", "a field is repeated")
        document[name] = value
    return document


def _validate(model: Any, data: dict[str, Any], where: str) -> Any:
    """``data`` as the route's ``model``, pydantic or plain: both raise a ``ValueError``
    that lists its problems (``errors()``)."""
    if model is None:
        return None
    try:
        return model.model_validate(data)
    except ValueError as error:
        problems = cast(_Invalid, error).errors(include_url=False, include_input=False)
        raise HttpProblem(
            422,
            "VALIDATION_FAILED",
            "Validation failed",
            f"the {where} does not match the schema",
            errors=[
                {
                    "path": ".".join([where, *(str(part) for part in item["loc"])]),
                    "message": item["msg"],
                    "type": item["type"],
                }
                for item in problems
            ],
        ) from error


def _base_url(event: Event, headers: Mapping[str, str]) -> str:
    """Public base URL: configured, else the API's own domain (set by API Gateway)."""
    domain = (event.get("requestContext") or {}).get("domainName") or headers.get("host", "")
    return public_base_url(domain, headers.get("x-forwarded-proto", "https"))


def public_base_url(domain: str, proto: str) -> str:
    """The configured public URL, else ``proto://domain``; "" (links stay relative) when
    neither is known."""
    configured = get_settings().public_url
    if configured:
        return configured.rstrip("/")
    return f"{proto}://{domain}" if domain else ""


def _problem_base(event: Event) -> str:
    """Where a problem's ``type`` points: under the base URL like every link, relative
    when the configuration that says where the API lives is what failed."""
    try:
        return _base_url(event, _headers(event))
    except ConfigurationError:
        return ""


def _respond(route: Route, result: Body | Reply) -> LambdaResponse:
    reply = result if isinstance(result, Reply) else Reply(result)
    body, media_type = reply.body, route.media_type
    if not isinstance(body, str | bytes):
        body, media_type = body.model_dump_json(by_alias=True), "application/json"
    response: LambdaResponse = {
        "statusCode": reply.status or route.status,
        "headers": {"content-type": media_type, **SECURITY_HEADERS, **reply.headers},
    }
    if isinstance(body, bytes):
        response.update(body=base64.b64encode(body).decode("ascii"), isBase64Encoded=True)
    else:
        response["body"] = body
    return response
