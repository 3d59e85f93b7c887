"""A bounded schemathesis run (issue 17, point 7): every operation of the OpenAPI description
the app publishes, called in-process with every role's token (the demo accounts: drafter,
vice-chair, clerk, auditor, administrator) on cases generated from the description itself.
No call may answer 5xx, and every answer must match the response schema it declares.

Hypothesis runs derandomized (the same cases every run) with a few examples per operation
and role (``KYSO_API_FUZZ_EXAMPLES``, default 3) inside a time budget
(``KYSO_API_FUZZ_SECONDS``, default 120 s: every operation must have run once, with one of
the roles, within it; the other roles' valid requests, then two roles' invalid ones, run
while it lasts), so CI always runs the same bounded set, in the same order."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

from .inprocess_support import World

EXAMPLES = int(os.environ.get("KYSO_API_FUZZ_EXAMPLES", "3"))
BUDGET = float(os.environ.get("KYSO_API_FUZZ_SECONDS", "120"))
ROLES = ("chuyenvien", "phochutichduc", "vanthu", "kiemtra", "quantri")
#: The roles that also send invalid requests (a wrong type, a missing field).
NEGATIVE_ROLES = ("chuyenvien", "quantri")
#: Ending the session would leave the role's later calls unauthenticated (a 401 each).
SKIPPED = {("POST", "/api/v1/auth/logout")}
#: Long polls: their wait (capped by the service at 55 s) held short, so a call answers
#: within the client's timeout.
SHORT_WAITS = {("GET", "/api/v1/agent/jobs"): "wait"}
#: Where a 503 is the answer asked for: the health check's ``strict=true`` says
#: "degraded" so (here no worker runs), its body saying why.
HEALTH = ("GET", "/api/v1/health")
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck))


def _short(value: Any) -> Any:
    """A wait of at most half a second; what is not a number stays (the service must refuse
    it with a 422, as fuzzed)."""
    try:
        return min(float(value), 0.5)
    except (TypeError, ValueError, OverflowError):
        return value


def _checked(world: World, operation: Any, headers: dict[str, str], mode: GenerationMode,
             failures: list[str]) -> None:
    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        wait = SHORT_WAITS.get((operation.method.upper(), operation.path))
        if wait and isinstance(case.query, dict) and wait in case.query:
            value = case.query[wait]
            case.query[wait] = [_short(v) for v in value] if isinstance(value, list) \
                else _short(value)
        response = case.call(headers=headers)
        checks = [not_a_server_error, response_schema_conformance]
        if (operation.method.upper(), operation.path) == HEALTH and \
                response.status_code == 503:
            assert response.json()["status"] in ("degraded", "down"), response.text
            checks = [response_schema_conformance]
        try:
            case.validate_response(response, checks=checks)
        except (AssertionError, FailureGroup) as failure:
            failures.append(f"{operation.method.upper()} {operation.path} "
                            f"[{headers['X-Role']}, {mode.value}] → {response.status_code}: "
                            f"{str(failure).strip()[:600]}\n    {case.as_curl_command()}")

    try:
        run()
    except Unsatisfiable:  # an operation with nothing in it that could be made invalid
        assert mode is GenerationMode.NEGATIVE


# --- what the run found, each pinned by a plain test (before the run, which changes the
# world's accounts as it goes) ---------------------------------------------------------------


def test_an_id_beyond_the_database_integers_is_refused_as_input(world: World) -> None:
    headers = world.login("chuyenvien")
    answer = world.client.get(f"/api/v1/register/{2 ** 130}/2026", headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["type"] == "ValueOutOfRange"
    upload = world.client.post("/api/v1/documents", headers=headers, data={
        "body_id": str(2 ** 70), "doc_type": "quyet-dinh", "subject": "Về việc thử"},
        files={"file": ("a.pdf", b"%PDF-1.7\n", "application/pdf")})
    assert upload.status_code == 422, upload.text


def test_the_certificate_check_of_an_unknown_document_is_not_found(world: World) -> None:
    answer = world.client.get("/api/v1/documents/khong-co/certificate-check",
                              headers=world.headers)
    assert answer.status_code == 404, answer.text


def test_remote_enrolment_asks_for_an_administrator_before_the_service(world: World) -> None:
    path = "/api/v1/admin/bodies/1/people/1/certificate/remote"
    drafter = world.client.post(path, headers=world.login("chuyenvien"),
                                json={"credential": "khong-co"})
    assert drafter.status_code == 403, drafter.text
    admin = world.client.post(path, headers=world.login("quantri"),
                              json={"credential": "khong-co"})
    assert admin.status_code == 422, admin.text
    assert admin.json()["error"]["type"] == "UnknownRemoteService"


@pytest.mark.slow
def test_every_operation_with_every_role_answers_within_its_schema(world: World) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.client.app)
    tokens = {role: {**world.login(role), "X-Role": role} for role in ROLES}
    failures: list[str] = []
    started = time.monotonic()
    deadline = started + BUDGET
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) > 30  # the description itself is readable
    wanted = [op for op in operations if (op.method.upper(), op.path) not in SKIPPED]
    # every operation once, each with another role; then every other role's valid requests;
    # then, while the budget lasts, the invalid requests of two roles of opposite rights
    first = [(op, ROLES[i % len(ROLES)], GenerationMode.POSITIVE) for i, op in enumerate(wanted)]
    plan = first + [(op, role, GenerationMode.POSITIVE) for op in wanted for role in ROLES
                    if (op, role, GenerationMode.POSITIVE) not in first] + \
        [(op, role, GenerationMode.NEGATIVE) for role in NEGATIVE_ROLES for op in wanted]
    done: dict[GenerationMode, int] = {GenerationMode.POSITIVE: 0, GenerationMode.NEGATIVE: 0}
    for operation, role, mode in plan:
        if time.monotonic() > deadline:
            break
        _checked(world, operation, tokens[role], mode, failures)
        done[mode] += 1
    print(f"schemathesis: {len(wanted)} operations, {done[GenerationMode.POSITIVE]} valid and "
          f"{done[GenerationMode.NEGATIVE]} invalid operation×role runs (of {len(plan)}) of up "
          f"to {EXAMPLES} cases, {time.monotonic() - started:.0f} s")
    assert done[GenerationMode.POSITIVE] >= len(wanted), \
        "the time budget ended before every operation had run once"
    assert failures == [], "\n".join(failures[:40])
