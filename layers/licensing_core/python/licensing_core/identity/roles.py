"""What an administrator may do: the whole platform, or one tenant; read and write, or
read only. Decided here once from the verified token and the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from licensing_core.domain.errors import Forbidden

if TYPE_CHECKING:  # annotations only: the endpoint imports this module on every route
    from licensing_core.identity.oidc import Principal
    from licensing_core.settings import Settings


@dataclass(frozen=True)
class AdminRole:
    #: The one tenant this administrator manages; None: every tenant (platform admin).
    tenant: str | None
    read_only: bool = False


def admin_role(principal: Principal, settings: Settings) -> AdminRole:
    """The role of a caller on an administrator route, or :class:`Forbidden`.

    People get theirs from groups (``license-admins``: platform; ``tenant-admins``: the
    tenant their token names); service accounts from OAuth scopes (``licensing/admin``,
    ``licensing/read``), limited to a tenant when their token names one.
    """
    tenant = principal.tenant(settings.tenant_claims)
    if settings.admin_group in principal.groups:
        return AdminRole(tenant=None)
    if settings.tenant_admin_group in principal.groups:
        return AdminRole(tenant=_named(tenant))
    if principal.kind == "service":
        if settings.admin_scope in principal.scopes:
            return AdminRole(tenant=tenant)
        if settings.read_scope in principal.scopes:
            return AdminRole(tenant=tenant, read_only=True)
    raise Forbidden("this action needs an administrator", code="NOT_AN_ADMIN")


def _named(tenant: str | None) -> str:
    if tenant is None:
        raise Forbidden(
            "a tenant administrator's token must name its tenant (claim 'tenant')",
            code="NO_TENANT_CLAIM",
        )
    return tenant
