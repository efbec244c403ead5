"""Cognito post-confirmation trigger: give the confirmed account its identity, and the
license its tenant's provisioning policy names. Never an HTTP route.

The account is already confirmed when this runs, so a refusal (no email, a tenant that
does not exist) is logged, not raised: raising would show the user an error for an
account that works. A storage failure is raised, and the user can sign in again to
retry; a second run for the same account changes nothing.
"""

from typing import Any

from aws_lambda_powertools import Logger
from licensing_core import schemas, telemetry
from licensing_core.domain.errors import DomainError
from licensing_core.services import identities
from licensing_core.settings import get_settings
from pydantic import ValidationError

logger = Logger(service="licensing")

#: Trigger sources that confirm a new account (not a password reset).
SIGN_UP = ("PostConfirmation_ConfirmSignUp",)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("triggerSource") not in SIGN_UP:
        return event
    attributes = (event.get("request") or {}).get("userAttributes") or {}
    tenant = next(
        (attributes[name] for name in get_settings().tenant_claims if name in attributes), None
    )
    with telemetry.flushing(context):
        try:
            account = schemas.SignedUpAccount(
                subject=attributes.get("sub", ""),
                email=attributes.get("email", ""),
                name=attributes.get("name"),
                tenant_id=tenant,
            )
            customer = identities.on_sign_up(account)
        except (ValidationError, DomainError) as error:
            code = getattr(error, "code", "INVALID_ACCOUNT")
            logger.warning("signed-up account not provisioned", extra={"code": code})
            return event
    logger.info(
        "signed-up account has its identity",
        extra={"customerId": customer.customer_id, "tenantId": customer.tenant_id},
    )
    return event
