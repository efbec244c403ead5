"""The HTTP helpers: cache headers, dates, problems to typed errors."""

from __future__ import annotations

import json
import socket

import pytest
from licensing_client import ActivationRefused, ConfigurationError, NetworkError
from licensing_client.http import (
    Response,
    UrllibTransport,
    check_url,
    date_header,
    max_age,
    raise_for_problem,
    retry_after,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("public, max-age=300", 300),
        ("max-age=0", 0),
        ('max-age="60", public', 60),
        ("no-store", 0),
        ("private, no-cache", 0),
        ("public", None),
        ("s-maxage=10", None),
        ("", None),
    ],
)
def test_max_age(value: str, expected: float | None) -> None:
    assert max_age({"cache-control": value}) == expected


def test_dates() -> None:
    assert date_header({"date": "Mon, 23 Nov 2026 19:08:00 GMT"}) == 1795460880
    assert date_header({"date": "yesterday"}) is None
    assert date_header({}) is None
    assert retry_after({"retry-after": "12"}, 0) == 12
    assert retry_after({"retry-after": "Mon, 23 Nov 2026 19:08:10 GMT"}, 1795460880) == 10
    assert retry_after({"retry-after": "soon"}, 0) is None


def problem(status: int, code: str | None = None, **headers: str) -> Response:
    body = {"status": status, "detail": "nope", **({"code": code} if code else {})}
    return Response(status, headers, json.dumps(body).encode())


def test_a_4xx_problem_is_a_refusal_with_its_code() -> None:
    with pytest.raises(ActivationRefused) as caught:
        raise_for_problem(
            problem(409, "SEAT_LIMIT_REACHED"), refused=ActivationRefused, what="x", now=0
        )
    assert (caught.value.code, caught.value.status) == ("SEAT_LIMIT_REACHED", 409)
    assert caught.value.detail == "x: nope"


@pytest.mark.parametrize("status", [429, 500, 502, 503, 302])
def test_5xx_429_and_odd_statuses_are_retryable(status: int) -> None:
    with pytest.raises(NetworkError) as caught:
        raise_for_problem(
            problem(status, **{"retry-after": "30"}), refused=ActivationRefused, what="x", now=0
        )
    assert caught.value.status == status
    assert caught.value.retry_after == 30
    assert caught.value.code == f"HTTP_{status}"


def test_a_non_json_error_still_maps() -> None:
    with pytest.raises(ActivationRefused) as caught:
        raise_for_problem(Response(404, {}, b"<html>"), refused=ActivationRefused, what="x", now=0)
    assert caught.value.code == "HTTP_404"


def test_responses_do_not_show_their_body() -> None:
    assert repr(Response(200, {}, b'{"token": "secret"}')) == "Response(status=200)"


def test_the_default_transport_turns_connection_failures_into_network_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", refused)
    with pytest.raises(NetworkError) as caught:
        UrllibTransport()(
            "POST",
            "https://licensing.test/license-keys/heartbeat?secret=1",
            body=b"{}",
            headers={},
            timeout=1,
        )
    assert caught.value.code == "NETWORK_ERROR"
    assert "licensing.test/license-keys/heartbeat" in caught.value.detail
    assert "secret" not in caught.value.detail


def test_urls_must_be_https_or_loopback() -> None:
    assert check_url("https://x.test/a") == "https://x.test/a"
    assert check_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert check_url("http://[::1]:8000/") == "http://[::1]:8000/"
    for bad in ("http://x.test", "ftp://x.test", "https://", 42):
        with pytest.raises(ConfigurationError):
            check_url(bad)
