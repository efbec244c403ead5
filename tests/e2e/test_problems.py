"""Problems people can quote, over real HTTP: a problem's ``type`` is a page of this API
that explains its code, and its ``requestId`` is the ``apigw-requestid`` header."""

from __future__ import annotations

import pytest

from tests.e2e.client import LocalServer, Reply, call

pytestmark = pytest.mark.e2e


def quotable(reply: Reply) -> Reply:
    """The page a problem's type names, fetched (after checking the problem names its request)."""
    assert reply.headers["content-type"] == "application/problem+json", reply.body
    assert reply.body["requestId"] == reply.headers["apigw-requestid"]
    page = call("GET", reply.body["type"])
    assert page.status == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert f"<code>{reply.body['code']}</code>" in page.body
    return page


def test_problems_of_functions_and_of_the_gateway_point_at_their_pages(
    local_server: LocalServer,
) -> None:
    base = local_server.base_url
    missing_token = call("GET", f"{base}/products")  # a function's problem
    assert (missing_token.status, missing_token.body["code"]) == (401, "MISSING_TOKEN")
    assert missing_token.body["type"] == f"{base}/problems/missing-token"
    assert "Bearer token required" in quotable(missing_token).body

    no_route = call("GET", f"{base}/nowhere")  # the gateway's own
    assert (no_route.status, no_route.body["code"]) == (404, "ROUTE_NOT_FOUND")
    assert no_route.body["type"] == f"{base}/problems/route-not-found"
    quotable(no_route)

    wrong_method = call("DELETE", f"{base}/problems/route-not-found")
    assert (wrong_method.status, wrong_method.body["code"]) == (405, "METHOD_NOT_ALLOWED")
    quotable(wrong_method)


def test_an_unknown_problem_page_is_a_404_problem(local_server: LocalServer) -> None:
    reply = call("GET", f"{local_server.base_url}/problems/no-such-code")
    assert (reply.status, reply.body["code"]) == (404, "NOT_FOUND")
    quotable(reply)
