"""Fuzzing from the committed OpenAPI document (schemathesis) against the local server.

Every operation gets generated requests, valid and invalid (the admin token signed in
with MFA is always sent; path parameters are replaced by real ids so requests reach the
handlers instead of 404), and every answer must be: no 5xx, a body that validates
against the documented schema of its status, a documented content type, and a
documented status (but for the known gaps listed in ``gaps.py``).

Bounded and deterministic for CI: ``FUZZ_MAX_EXAMPLES`` (default 6) examples per
operation, the examples and fuzzing phases, the same cases every run. ``make fuzz`` runs
the long, random version::

    FUZZ_RANDOM=1 FUZZ_MAX_EXAMPLES=200 FUZZ_PHASES=examples,coverage,fuzzing \
        .venv/bin/pytest tests/fuzz -p no:cacheprovider
"""

from __future__ import annotations

import os
from pathlib import Path

import licensing_core
import pytest
import schemathesis
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.fuzz.conftest import FuzzTarget
from tests.fuzz.gaps import HTML_PROBLEMS, UNDOCUMENTED_STATUSES

pytestmark = pytest.mark.e2e

OPENAPI = Path(licensing_core.__file__).with_name("openapi.json")
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "6"))
PHASES = os.environ.get("FUZZ_PHASES", "examples,fuzzing").split(",")

document = schemathesis.openapi.from_path(OPENAPI)
document.config.generation.update(
    max_examples=MAX_EXAMPLES,
    database="none",
    deterministic=not os.environ.get("FUZZ_RANDOM"),
)
document.config.phases.update(phases=PHASES)
document.config.update(request_timeout=30)
#: /docs is a static HTML page with nothing to generate.
schema = document.exclude(path="/docs")


@schema.parametrize()
def test_every_answer_conforms_to_the_document(case: Case, fuzz: FuzzTarget) -> None:
    if case.path_parameters:
        case.path_parameters = {
            name: fuzz.ids.get(name, value) for name, value in case.path_parameters.items()
        }
    key = (case.operation.method.upper(), case.operation.path)
    checks = [not_a_server_error, response_schema_conformance]
    if key not in HTML_PROBLEMS:
        checks.append(content_type_conformance)
    response = case.call_and_validate(
        base_url=fuzz.base_url,
        headers={"Authorization": f"Bearer {fuzz.api.admin_token}"},
        checks=checks,
        timeout=30,
    )
    status = response.status_code
    if case.method.upper() != key[0]:  # the coverage phase probes other methods: 405 is right
        assert status == 405, response.text[:300]
        return
    documented = {str(status) for status in case.operation.definition.raw["responses"]}
    if str(status) not in documented and "default" not in documented:
        assert status in UNDOCUMENTED_STATUSES.get(key, frozenset()), (
            f"{key[0]} {key[1]} answered {status}, which the OpenAPI document does not list "
            f"({sorted(documented)}): {response.text[:300]}\n"
            f"reproduce: {case.as_curl_command()}"
        )
