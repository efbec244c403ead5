"""The customer portal in a real browser against ``python -m local``: a customer
registers on the registration page, follows its link to the portal, signs in, claims the
license, reveals and copies the key (the API asks for a recent MFA sign-in first), sees
their machine and frees its seat, and sees their usage. Every page passes axe-core;
nothing is fetched from another host."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from tests.browser.console import (
    Tab,
    account,
    api,
    check_accessibility,
    fill_sign_in,
    step_up_in_popup,
)
from tests.browser.support import SKIP_WITHOUT_BROWSER
from tests.e2e.client import LocalServer, call

if TYPE_CHECKING:
    pass

pytestmark = SKIP_WITHOUT_BROWSER


def self_service_product(server: LocalServer) -> dict[str, Any]:
    """A product of its own with a self-service tier (features, a quota)."""
    token = server.admin_token
    code = f"Portal.App-{uuid.uuid4().hex[:6]}"
    product = api(
        server, "POST", "/products", token, json_body={"code": code, "name": "Portal App"}
    )
    for key, name in (("export", "Export"), ("sync", "Sync")):
        api(
            server,
            "POST",
            f"/products/{product['productId']}/features",
            token,
            json_body={"key": key, "name": name},
        )
    tier = {
        "code": "starter",
        "name": "Starter",
        "monthlyPrice": 900,
        "currency": "EUR",
        "billingPeriods": ["monthly"],
        "maxUsers": 2,
        "features": ["export", "sync"],
        "quotas": {"renders": {"limit": 500, "period": "month"}},
        "selfService": True,
    }
    api(server, "POST", f"/products/{product['productId']}/tiers", token, json_body=tier)
    return product


def test_a_customer_claims_copies_the_key_and_frees_a_machine(console_tab: Tab) -> None:
    from playwright.sync_api import expect

    server = console_tab.server
    console_tab.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=server.base_url
    )
    product = self_service_product(server)
    email = account(server, "user")["username"]
    page = console_tab.page
    page.goto(f"{server.base_url}/register?product={product['code']}&tier=starter")
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Confirm email address", exact=True).fill(email)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.get_by_role("link", name="Sign in and claim your license").click()  # to the portal
    expect(page).to_have_url(f"{console_tab.console_url}portal/claim")
    page.get_by_role("button", name="Sign in").click()
    fill_sign_in(page, server, "user")
    expect(page.get_by_role("heading", name="Claim a license", level=1)).to_be_visible()
    check_accessibility(console_tab, "portal-claim")

    nav = page.get_by_role("navigation", name="Main")
    page.get_by_label("Product code (optional)").fill(product["code"])
    page.get_by_role("button", name="Claim my license").click()
    expect(page.get_by_role("heading", name="License claimed")).to_be_focused()
    claimed_key = page.get_by_label("License key").inner_text().strip()
    expect(page.locator(".features")).to_contain_text("export")
    console_tab.shot("portal-claimed")

    activation = call(
        "POST",
        f"{server.base_url}/license-activations/activate",
        json_body={
            "keyToken": claimed_key,
            "machineId": f"desk-{uuid.uuid4().hex[:6]}",
            "hostname": "ada-desktop.home.arpa",
            "platform": "Windows-11-10.0.26100",
            "appVersion": "5.0.2",
        },
    ).body
    used = call(
        "POST",
        f"{server.base_url}/usage",
        json_body={
            "clientId": activation["clientId"],
            "meter": "renders",
            "quantity": 42,
            "idempotencyKey": uuid.uuid4().hex,
        },
    )
    assert used.status == 200, used.body

    nav.get_by_role("link", name="My licenses").click()
    card = page.get_by_role("article").filter(has=page.get_by_role("heading", name=product["code"]))
    expect(card).to_contain_text("1 in use")
    card.get_by_role("button", name=f"Show key of {product['code']}").click()
    step_up_in_popup(console_tab, "user")  # revealing a key needs a recent MFA sign-in
    dialog = page.get_by_role("dialog", name=f"Key of {product['code']}")
    expect(dialog.get_by_label("License key")).to_be_visible()
    shown = dialog.get_by_label("License key").inner_text().strip()
    assert shown.count(".") == 2
    check_accessibility(console_tab, "portal-key")
    console_tab.shot("portal-key", full_page=False)
    dialog.get_by_role("button", name="Copy key").click()
    expect(page.get_by_role("status").filter(has_text="copied to the clipboard")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == shown
    validated = call(
        "POST", f"{server.base_url}/license-keys/validate", json_body={"keyToken": shown}
    ).body
    assert validated["valid"] is True and validated["claims"]["aud"] == product["code"]
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    nav.get_by_role("link", name="My machines").click()
    machines = page.get_by_role("table", name="Machines holding a seat")
    expect(machines).to_contain_text("ada-desktop.home.arpa")
    expect(machines).to_contain_text("Windows-11-10.0.26100")
    check_accessibility(console_tab, "portal-machines")
    console_tab.shot("portal-machines")
    machines.get_by_role("button", name="Free seat of ada-desktop.home.arpa").click()
    confirm = page.get_by_role("dialog", name="Free this seat")
    check_accessibility(console_tab, "portal-free-seat")
    confirm.get_by_role("button", name="Free seat").click()
    expect(page.get_by_role("status").filter(has_text="Seat freed.")).to_be_visible()
    expect(machines).not_to_contain_text("ada-desktop.home.arpa")
    license_id = validated["licenseId"]
    seats = api(server, "GET", f"/license-keys/{license_id}/activations", server.admin_token)
    assert seats["activeSeats"] == 0 and seats["items"] == []

    nav.get_by_role("link", name="My usage").click()
    usage = page.get_by_role("table", name="This period")
    expect(usage).to_contain_text("Renders")
    expect(usage).to_contain_text("42")
    check_accessibility(console_tab, "portal-usage")
    console_tab.shot("portal-usage")
