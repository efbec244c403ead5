"""Every screen and dialog of the vendor console, reached as people reach them (the
navigation, links, buttons) and checked with axe-core, while doing what each is for:
issue a license to a new address, find and open the identity, create a tenant with a
provisioning policy, add a feature (display only) and a tier that inherits."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from tests.browser.console import (
    Tab,
    check_accessibility,
    sign_in,
    unique_email,
)
from tests.browser.support import SKIP_WITHOUT_BROWSER

if TYPE_CHECKING:
    pass

pytestmark = SKIP_WITHOUT_BROWSER


def test_issue_a_license_then_find_its_new_identity(console_tab: Tab) -> None:
    from playwright.sync_api import expect

    page = console_tab.page
    email = unique_email("new")
    sign_in(console_tab, "admin", "licenses")
    page.get_by_role("link", name="Issue a license").click()
    form = page.locator("form.card")
    form.get_by_label("Customer email").fill(email)
    form.get_by_label("Tier").select_option(label="Enterprise — 50 seats")
    check_accessibility(console_tab, "issue-license")
    form.get_by_role("button", name="Issue license").click()
    expect(
        page.get_by_role("heading", name="A new identity was created with the license.")
    ).to_be_focused()
    key = page.get_by_label("License key").inner_text().strip()
    assert key.count(".") == 2
    console_tab.shot("issued")
    page.get_by_role("link", name="Open the license").click()
    expect(page.get_by_role("region", name="Claims")).to_contain_text("audit_log")

    page.get_by_role("region", name="Summary").get_by_role("link", name="cus_", exact=False).click()
    expect(page.get_by_role("heading", name=email, level=1)).to_be_visible()
    expect(page.get_by_role("table", name="The identity's licenses")).to_contain_text(
        "Rdn.Identity"
    )
    check_accessibility(console_tab, "identity")
    console_tab.shot("identity")
    page.get_by_role("button", name="Deactivate").click()
    check_accessibility(console_tab, "deactivate-identity")
    page.keyboard.press("Escape")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Identities").click()
    search = page.get_by_role("search", name="Identities")
    search.get_by_label("Email (exact)").fill(email)
    search.get_by_role("button", name="Search").click()
    expect(
        page.get_by_role("table", name="Identities, page 1").get_by_role("link", name=email)
    ).to_be_visible()
    check_accessibility(console_tab, "identities")
    page.get_by_role("button", name="Create an identity").click()
    check_accessibility(console_tab, "create-identity")
    page.keyboard.press("Escape")


def test_tenants_with_provisioning_and_the_catalog(console_tab: Tab) -> None:
    from playwright.sync_api import expect

    page = console_tab.page
    sign_in(console_tab, "admin", "tenants")
    check_accessibility(console_tab, "tenants")
    page.get_by_role("button", name="Create a tenant").click()
    dialog = page.get_by_role("dialog", name="Create a tenant")
    name = f"Globex {uuid.uuid4().hex[:4]}"
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_label("Provisioning: product").select_option(label="Rdn Identity")
    dialog.get_by_label("Provisioning: tier").select_option(label="Pro")
    dialog.get_by_label("Provisioned licenses last (days)").fill("30")
    check_accessibility(console_tab, "create-tenant")
    dialog.get_by_role("button", name="Create tenant").click()
    expect(page.get_by_role("heading", name=f"Tenant {name}")).to_be_visible()
    expect(page.get_by_role("region", name="Tenant")).to_contain_text(
        "Pro of Rdn Identity, 30 days"
    )
    expect(page.get_by_role("region", name="Summary")).to_contain_text("Active identities")
    check_accessibility(console_tab, "tenant")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    check_accessibility(console_tab, "catalog")
    page.get_by_role("button", name="Create a product").click()
    dialog = page.get_by_role("dialog", name="Create a product")
    code = f"Globex.Suite-{uuid.uuid4().hex[:4]}"
    dialog.get_by_label("Code", exact=True).fill(code)
    dialog.get_by_label("Name", exact=True).fill("Globex Suite")
    dialog.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("heading", name="Globex Suite", level=1)).to_be_visible()

    for key, label, display_only in (("reports", "Reports", False), ("sla", "Support SLA", True)):
        page.get_by_role("button", name="Add a feature").click()
        dialog = page.get_by_role("dialog", name="Add a feature")
        dialog.get_by_label("Key", exact=True).fill(key)
        dialog.get_by_label("Name", exact=True).fill(label)
        if display_only:
            dialog.get_by_label("Display only (never in a key)").check()
            check_accessibility(console_tab, "add-feature")
        dialog.get_by_role("button", name="Add feature").click()
        expect(page.get_by_role("table", name="Features")).to_contain_text(label)

    for tier, parent, feature in (("basic", None, "Reports"), ("plus", "Basic", "Support SLA")):
        page.get_by_role("button", name="Add a tier").click()
        dialog = page.get_by_role("dialog", name="Add a tier")
        dialog.get_by_label("Code", exact=True).fill(tier)
        dialog.get_by_label("Name", exact=True).fill(tier.title())
        if parent:
            dialog.get_by_label("Includes (parent tier)").select_option(label=parent)
        dialog.get_by_label("Monthly price (minor units)").fill("1500")
        dialog.get_by_label(feature, exact=False).check()
        if parent:
            check_accessibility(console_tab, "add-tier")
        dialog.get_by_role("button", name="Add tier").click()
        expect(dialog).to_be_hidden()

    plus = page.get_by_role("list", name="Plus: resolved features")
    expect(plus.get_by_role("listitem")).to_have_text(
        ["Reports (inherited)", "Support SLA (display only)"]
    )
    basic = page.get_by_role("list", name="Basic: resolved features")
    expect(basic.get_by_role("listitem")).to_have_text(["Reports"])
    expect(page.get_by_role("article", name="Plus plan")).to_contain_text("everything in basic")
    check_accessibility(console_tab, "product")
    console_tab.shot("product")
