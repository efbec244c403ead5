"""The calls the READMEs show are calls the SDK accepts: every ``client.x(...)``,
``LicensingClient(...)``, ``held.x(...)``... of sdk/README.md and of the main README's
SDK section binds to the real signature (``...`` stands for elided arguments, and
empty parentheses only name a method)."""

from __future__ import annotations

import ast
import functools
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from licensing_client import (
    AsyncHeartbeats,
    HeartbeatLoop,
    HeartbeatSchedule,
    License,
    LicensingClient,
    MachineFiles,
    RetryPolicy,
)

ROOT = Path(__file__).resolve().parents[2]
#: What the names of the READMEs' examples stand for.
RECEIVERS: dict[str, type] = {
    "client": LicensingClient,
    "held": License,
    "license": License,
    "loop": HeartbeatLoop,
    "files": MachineFiles,
}
CLASSES: dict[str, Callable[..., Any]] = {
    "LicensingClient": LicensingClient,
    "LicensingClient.offline": LicensingClient.offline,
    "RetryPolicy": RetryPolicy,
}
#: Where a ``**options`` parameter sends its keywords.
FORWARDS: dict[Any, Callable[..., Any]] = {
    LicensingClient.offline: LicensingClient,
    LicensingClient.start_heartbeats: HeartbeatLoop,
    LicensingClient.heartbeats_async: AsyncHeartbeats,
    HeartbeatLoop: HeartbeatSchedule,
    AsyncHeartbeats: HeartbeatSchedule,
}
CALL = re.compile(r"(?<![\w.])(LicensingClient\.offline|LicensingClient|RetryPolicy|\w+\.\w+)\(")


def documents() -> dict[str, str]:
    main = (ROOT / "README.md").read_text()
    start = main.index("\n## Client SDK")
    return {
        "sdk/README.md": (ROOT / "sdk" / "README.md").read_text(),
        "README.md#client-sdk": main[start : main.index("\n## ", start + 1)],
    }


def calls(text: str) -> list[str]:
    """Each documented call: ``name(arguments)``, parentheses balanced."""
    found = []
    for match in CALL.finditer(text):
        depth, end = 0, match.end() - 1
        for end in range(match.end() - 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if depth == 0:
                break
        name = match.group(1)
        if name in CLASSES or name.split(".")[0] in RECEIVERS:
            found.append(text[match.start() : end + 1])
    return found


def target(name: str) -> Callable[..., Any]:
    if name in CLASSES:
        return CLASSES[name]
    receiver, attribute = name.split(".")
    member = getattr(RECEIVERS[receiver], attribute)
    if isinstance(inspect.getattr_static(RECEIVERS[receiver], attribute), classmethod):
        return member
    return functools.partial(member, None)  # the instance


def check(call: str) -> None:
    """Raises ``TypeError`` when the real signature does not take the call's arguments."""
    name = call[: call.index("(")]
    node = ast.parse("f" + call[len(name) :], mode="eval").body
    assert isinstance(node, ast.Call), call
    positional = [None for a in node.args if not (isinstance(a, ast.Constant) and a.value is ...)]
    keywords = [k.arg for k in node.keywords if k.arg]
    # "client.has()" in prose names the method; "f(..., x=1)" elides arguments
    mention = len(positional) < len(node.args) or not (node.args or node.keywords)
    _bind(target(name), positional, keywords, partial=mention)


def _bind(
    fn: Callable[..., Any], positional: list[None], names: list[str], *, partial: bool
) -> None:
    signature = inspect.signature(fn)
    own = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    forwarded = [n for n in names if n not in {p.name for p in own}]
    base = getattr(fn, "func", fn)
    if forwarded and base in FORWARDS:
        _bind(FORWARDS[base], [], forwarded, partial=True)
        names = [n for n in names if n not in forwarded]
    bind = signature.replace(parameters=own).bind_partial if partial else signature.bind
    bind(*positional, **dict.fromkeys(names))


@pytest.mark.parametrize("document", sorted(documents()))
def test_every_documented_call_matches_the_sdk(document: str) -> None:
    found = calls(documents()[document])
    names = {call[: call.index("(")] for call in found}
    assert {"LicensingClient", "client.activate", "client.report_usage"} <= names, names
    for call in found:
        try:
            check(call)
        except TypeError as error:
            pytest.fail(f"{document}: {call} does not match the SDK: {error}")


def test_the_documented_report_usage_signature_is_the_real_one() -> None:
    documented = "report_usage(meter, quantity, *, idempotency_key=None)"
    assert documented in documents()["sdk/README.md"]
    parameters = ast.parse(f"def {documented}: ...").body[0].args  # type: ignore[attr-defined]
    real = inspect.signature(LicensingClient.report_usage).parameters
    assert [a.arg for a in parameters.args] == list(real)[1:3]
    assert [a.arg for a in parameters.kwonlyargs] == ["idempotency_key"]
    assert real["idempotency_key"].kind is inspect.Parameter.KEYWORD_ONLY
    assert inspect.signature(LicensingClient.report_usage_async).parameters == real


@pytest.mark.parametrize(
    "wrong",
    [
        "client.activate(key, encrypt=False)",  # an option of the client, not of activate
        "client.report_usage('api_calls', 1, 'key')",  # the key is keyword-only
        "client.start_heartbeats(on_renew=print)",
        "LicensingClient(url, product=..., retries=3)",
        "held.has(feature, 'now')",
    ],
)
def test_a_call_the_sdk_refuses_is_caught(wrong: str) -> None:
    with pytest.raises(TypeError):
        check(wrong)
