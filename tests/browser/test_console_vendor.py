"""The vendor console in a real browser against ``python -m local``: a support engineer
finds a license by the customer's email, opens it, sees the machine, revokes it (the
API's RFC 9470 challenge, an MFA sign-in in a popup, the retry) and the overview
changes; a tenant administrator sees their tenant only; the license table and the
action dialogs work with the keyboard alone. Every page passes axe-core; nothing is
fetched from another host."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tests.browser.console import (
    Tab,
    api,
    check_accessibility,
    licensed_machine,
    sign_in,
    step_up_in_popup,
    tenant_of,
    unique_email,
)
from tests.browser.support import SKIP_WITHOUT_BROWSER

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = SKIP_WITHOUT_BROWSER


def stat(page: Page, label: str) -> int:
    """The figure of an overview card."""
    from playwright.sync_api import expect

    card = page.locator(".stat").filter(has=page.get_by_text(label, exact=True))
    expect(card).to_have_count(1)
    return int(re.sub(r"\D", "", card.locator("dd").inner_text()))


def test_a_vendor_finds_a_license_by_email_and_revokes_it_with_step_up(console_tab: Tab) -> None:
    from playwright.sync_api import expect

    email = unique_email("ada")
    issued = licensed_machine(console_tab.server, email, hostname="ada-laptop.example.net")
    page = console_tab.page
    sign_in(console_tab, "admin", "overview")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(
        page.get_by_role("img", name=re.compile("^Active machines at the end of each day"))
    ).to_be_visible()
    revoked_before = stat(page, "Revoked licenses")
    check_accessibility(console_tab, "overview")
    console_tab.shot("overview-before")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Licenses").click()
    search = page.get_by_role("search", name="Licenses")
    search.get_by_label("Customer email").fill(email.upper())  # any form of the address
    search.get_by_role("button", name="Search").click()
    table = page.get_by_role("table", name="Licenses, page 1")
    expect(table.get_by_role("row")).to_have_count(2)  # the header and the one license
    check_accessibility(console_tab, "licenses")
    console_tab.shot("licenses")
    table.get_by_role("link", name=issued["licenseId"]).click()

    expect(page.get_by_role("heading", name=f"License {issued['licenseId']}")).to_be_visible()
    machines = page.get_by_role("table", name="Activated machines")
    expect(machines).to_contain_text("ada-laptop.example.net")
    expect(machines).to_contain_text("Linux-6.8-x86_64")
    expect(machines).to_contain_text("2.4.1")
    expect(page.get_by_role("table", name="Audit history, newest first")).to_contain_text(
        "License issued"
    )
    check_accessibility(console_tab, "license")
    console_tab.shot("license")

    page.get_by_role("button", name="Revoke", exact=True).click()
    dialog = page.get_by_role("dialog", name="Revoke this license")
    expect(dialog.get_by_label("Reason")).to_be_focused()
    dialog.get_by_label("Reason").fill("Chargeback on order 4711")
    check_accessibility(console_tab, "revoke-dialog")
    with page.expect_response("**/revoke") as challenged:
        dialog.get_by_role("button", name="Revoke license").click()
    response = challenged.value
    assert response.status == 401
    challenge = response.headers["www-authenticate"]
    assert (
        'error="insufficient_user_authentication"' in challenge and 'acr_values="mfa"' in challenge
    )
    console_tab.shot("step-up-prompt", full_page=False)
    with page.expect_response(
        lambda answer: answer.url.endswith("/revoke") and answer.status == 200
    ):
        step_up_in_popup(console_tab, "admin")  # then the console retries the revoke once

    expect(page.get_by_role("status").filter(has_text="License revoked.")).to_be_visible()
    expect(dialog).to_be_hidden()
    expect(page.locator(".facts .badge").first).to_have_text("revoked")
    expect(page.get_by_role("button", name="Revoke", exact=True)).to_have_count(0)
    expect(page.get_by_role("table", name="Audit history, newest first")).to_contain_text(
        "Chargeback on order 4711"
    )
    detail = console_tab.server.request(
        "GET", f"/license-keys/{issued['licenseId']}", token=console_tab.server.admin_token
    ).body
    assert (
        detail["status"] == "revoked"
        and detail["statusNote"]["reason"] == "Chargeback on order 4711"
    )
    console_tab.shot("license-revoked")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(
        page.locator(".stat")
        .filter(has=page.get_by_text("Revoked licenses", exact=True))
        .locator("dd")
    ).to_have_text(str(revoked_before + 1))
    console_tab.shot("overview-after")


def test_the_license_table_and_the_dialogs_work_with_the_keyboard_alone(console_tab: Tab) -> None:
    from playwright.sync_api import expect

    email = unique_email("keys")
    licensed_machine(console_tab.server, email)
    body = {
        "productId": "Rdn.Identity",
        "tierId": "free",
        "customerEmail": email,
        "perpetual": True,
    }
    api(console_tab.server, "POST", "/license-keys", console_tab.server.admin_token, json_body=body)
    page = console_tab.page
    sign_in(console_tab, "admin", f"licenses?email={email}")
    table = page.get_by_role("table", name="Licenses, page 1")
    expect(table.get_by_role("row")).to_have_count(3)

    page.get_by_role("search", name="Licenses").get_by_label("Customer email").focus()
    links = table.locator("tbody th a")
    while not links.first.evaluate("link => link === document.activeElement"):
        page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    expect(links.nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(links.first).to_be_focused()
    target = links.first.inner_text()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"License {target}")).to_be_focused()

    suspend = page.get_by_role("button", name="Suspend", exact=True)
    while not suspend.evaluate("button => button === document.activeElement"):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Suspend this license")
    expect(dialog.get_by_label("Reason")).to_be_focused()
    page.keyboard.press("Escape")  # closes, focus back on the button that opened it
    expect(dialog).to_be_hidden()
    expect(suspend).to_be_focused()

    page.keyboard.press("Enter")
    expect(dialog.get_by_label("Reason")).to_be_focused()
    page.keyboard.type("Payment overdue")
    page.keyboard.press("Enter")  # submits the form
    expect(page.get_by_role("status").filter(has_text="License suspended.")).to_be_visible()
    expect(page.get_by_role("button", name="Reinstate", exact=True)).to_be_visible()
    check_accessibility(console_tab, "license-suspended")


def test_a_tenant_administrator_sees_only_their_tenant(console_tab: Tab) -> None:
    from playwright.sync_api import expect

    server = console_tab.server
    tenant = tenant_of(server, "tenant-admin")
    ours = licensed_machine(
        server, unique_email("acme"), tenant=tenant, hostname="acme-01.example.net"
    )
    theirs_email = unique_email("other")
    theirs = licensed_machine(server, theirs_email)  # the default tenant
    page = console_tab.page
    sign_in(console_tab, "tenant-admin", "licenses")

    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="My tenant")).to_be_visible()
    expect(nav.get_by_role("link", name="Tenants")).to_have_count(0)
    expect(page.get_by_text(f"Tenant administrator · {tenant}")).to_be_visible()
    search = page.get_by_role("search", name="Licenses")
    expect(search.get_by_label("Tenant id")).to_have_count(0)  # always their own
    table = page.get_by_role("table", name="Licenses, page 1")
    expect(table.get_by_role("link", name=ours["licenseId"])).to_be_visible()
    expect(table.get_by_role("link", name=theirs["licenseId"])).to_have_count(0)
    check_accessibility(console_tab, "tenant-licenses")
    console_tab.shot("tenant-licenses")

    search.get_by_label("Customer email").fill(theirs_email)
    search.get_by_role("button", name="Search").click()
    expect(table.get_by_role("row")).to_have_count(2)
    expect(table).to_contain_text("No license matches these filters.")

    # A link to another tenant's license (pasted: a new page signs in again, tokens live
    # in memory only, and lands where the link pointed).
    sign_in(console_tab, "tenant-admin", f"licenses/{theirs['licenseId']}")
    expect(page.get_by_role("alert")).to_contain_text("LICENSE_NOT_FOUND")
    console_tab.allow_console(
        "status of 404"
    )  # the API answers another tenant's license as unknown

    nav.get_by_role("link", name="My tenant").click()
    expect(page.get_by_role("heading", name="Tenant Acme Corp")).to_be_visible()
    expect(page.get_by_role("table", name="The tenant's identities")).to_contain_text(
        "@example.com"
    )
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_label("Tenant id")).to_have_count(0)
    summary = api(server, "GET", f"/stats/summary?tenantId={tenant}", server.admin_token)
    expect(
        page.locator(".stat")
        .filter(has=page.get_by_text("Active machines", exact=True))
        .locator("dd")
    ).to_have_text(str(summary["activeMachines"]))
    check_accessibility(console_tab, "tenant-overview")
