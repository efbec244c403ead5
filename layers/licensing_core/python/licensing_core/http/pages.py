"""The self-service registration page (``GET /register``, and ``POST /register`` for form
posts): small, dependency-free, accessible HTML.

It works without JavaScript (a plain form post answered with this page in its success or
error state) and is nicer with it (the inline script posts JSON with ``fetch`` and
updates the page in place). Every interpolated value goes through :func:`_e`; the
style and script are static, so a strict Content-Security-Policy pins them by hash.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qsl

from licensing_core.http.endpoint import (
    SECURITY_HEADERS,
    Event,
    LambdaHandler,
    LambdaResponse,
    Reply,
)
from licensing_core.services.registration import Offer
from licensing_core.settings import get_settings

HTML_MEDIA_TYPE = "text/html; charset=utf-8"
#: Form fields, in the order the page shows them.
FIELDS = ("email", "emailConfirmation")

STYLE = """
:root { color-scheme: light dark; --accent: #0b5cad; --bad: #b00020; --ok: #1b6e2d; }
* { box-sizing: border-box; }
body { margin: 0; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 34rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
.tier { color: var(--accent); }
.price { font-size: 1.2rem; font-weight: 600; margin: .25rem 0; }
.plan { border: 1px solid #8888; border-radius: .5rem; padding: .75rem 1rem; margin: 1rem 0; }
.plan h2 { margin: 0; font-size: 1.25rem; }
.plan ul { margin: .5rem 0 0; padding-left: 1.25rem; }
label { display: block; font-weight: 600; margin-top: 1rem; }
.hint { display: block; font-size: .9rem; opacity: .8; }
input[type=email] { width: 100%; font: inherit; padding: .5rem; margin-top: .25rem;
  border: 1px solid #888; border-radius: .25rem; }
input[aria-invalid=true] { border: 2px solid var(--bad); }
input:focus-visible, button:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid var(--accent); outline-offset: 2px; }
.field-error { color: var(--bad); margin: .25rem 0 0; font-weight: 600; }
button { margin-top: 1.25rem; font: inherit; font-weight: 600; padding: .6rem 1.2rem;
  border: 0; border-radius: .25rem; background: var(--accent); color: #fff; cursor: pointer; }
button[disabled] { opacity: .6; cursor: progress; }
#status:empty { display: none; }
#status { padding: .75rem 1rem; border-radius: .25rem; margin: 1rem 0; border: 2px solid; }
#status.error { border-color: var(--bad); }
#status.ok { border-color: var(--ok); }
.success h2 { margin-top: 0; }
"""

SCRIPT = """
"use strict";
(() => {
  const form = document.getElementById("register-form");
  if (!form || !window.fetch) return;
  const status = document.getElementById("status");
  const success = document.getElementById("success");
  const button = form.querySelector("button[type=submit]");
  const fields = ["email", "emailConfirmation"];
  const value = (name) => form.elements.namedItem(name).value.trim();
  // a hint only: the service compares the addresses' keys (NFKC, case folded)
  const address = (name) => value(name).normalize("NFKC").toLowerCase();
  const say = (text, kind) => { status.textContent = text; status.className = kind; };
  const setError = (name, message) => {
    const input = form.elements.namedItem(name);
    const note = document.getElementById(name + "-error");
    note.textContent = message;
    note.hidden = !message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  const problemText = (body) => (body.code === "VALIDATION_FAILED"
    ? "Please correct the highlighted field."
    : (body.detail ? body.detail.charAt(0).toUpperCase() + body.detail.slice(1) + "."
      : "The registration failed; please try again."))
    + (body.requestId ? " Reference for support: " + body.requestId + "." : "");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fields.forEach((name) => setError(name, ""));
    if (!form.reportValidity()) return;
    if (address("email") !== address("emailConfirmation")) {
      setError("emailConfirmation", "The two email addresses differ.");
      say("Please correct the highlighted field.", "error");
      form.elements.namedItem("emailConfirmation").focus();
      return;
    }
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    say("Sending your registration\\u2026", "");
    try {
      const response = await fetch(form.action, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify({
          email: value("email"), emailConfirmation: value("emailConfirmation"),
          productCode: value("productCode"), tierCode: value("tierCode"),
        }),
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        document.getElementById("success-email").textContent = value("email");
        const expiry = document.getElementById("success-expiry");
        expiry.dateTime = body.expiresAt;
        expiry.textContent = new Date(body.expiresAt).toLocaleString(
          document.documentElement.lang, { dateStyle: "long", timeStyle: "long" });
        form.hidden = true;
        success.hidden = false;
        say("Registration received: check your email.", "ok");
        success.querySelector("h2").focus();
      } else {
        let first = null;
        for (const error of body.errors || []) {
          const name = String(error.path || "").split(".").pop();
          if (fields.includes(name)) {
            const text = String(error.message || "").replace(/^Value error, /, "");
            setError(name, text.charAt(0).toUpperCase() + text.slice(1));
            first = first || name;
          }
        }
        say(problemText(body), "error");
        if (first) form.elements.namedItem(first).focus();
      }
    } catch (error) {
      say("The network failed; please try again.", "error");
    } finally {
      button.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
})();
"""


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    f"style-src 'sha256-{_sha256(STYLE)}'; "
    f"script-src 'sha256-{_sha256(SCRIPT)}'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    **SECURITY_HEADERS,
    "content-type": HTML_MEDIA_TYPE,
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def _e(value: object) -> str:
    """HTML-escape anything interpolated into the page (text and attribute values)."""
    return html.escape(str(value), quote=True)


# Prices

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF ", "JPY": "¥"}
#: ISO 4217 currencies without minor units (prices are stored in minor units).
_ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
                           "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"})  # fmt: skip


def money(amount: int, currency: str) -> str:
    """``2900, "EUR"`` -> ``€29.00``."""
    number = f"{amount:,}" if currency in _ZERO_DECIMAL else f"{amount / 100:,.2f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


_PER = {"monthly": "per month", "annual": "per year"}


def prices(offer: Offer) -> list[str]:
    """One line per period offered (only periods with a price are)."""
    if offer.free:
        return ["Free"]
    return [
        f"{money(price, offer.currency)} {_PER[period]}" for period, price in offer.prices.items()
    ]


# The page


@dataclass(frozen=True)
class PageState:
    """What the page shows besides the offer."""

    kind: Literal["form", "success", "error"] = "form"
    message: str = ""
    #: The values to put back into the form (as submitted; escaped on output).
    values: Mapping[str, str] = field(default_factory=dict)
    field_errors: Mapping[str, str] = field(default_factory=dict)
    expires_at: datetime | None = None
    #: The ``requestId`` of the problem shown, for the person to quote to support.
    reference: str = ""
    #: The ``code`` of the problem shown.
    code: str = ""


def _field(name: str, label: str, hint: str, state: PageState) -> str:
    error = state.field_errors.get(name, "")
    invalid = ' aria-invalid="true"' if error else ""
    hidden = "" if error else " hidden"
    return f"""
<label for="{name}">{_e(label)}</label>
<span class="hint" id="{name}-hint">{_e(hint)}</span>
<input type="email" id="{name}" name="{name}" autocomplete="email" required maxlength="254"
  spellcheck="false" autocapitalize="off" inputmode="email"
  aria-describedby="{name}-hint {name}-error" value="{_e(state.values.get(name, ""))}"{invalid}>
<p class="field-error" id="{name}-error"{hidden}>{_e(error)}</p>"""


def _plan(offer: Offer) -> str:
    features = "".join(f"<li>{_e(name)}</li>" for name in offer.features)
    price = "<br>".join(_e(line) for line in prices(offer))
    description = offer.tier_description or offer.product_description
    parts = [
        '<section class="plan" aria-labelledby="plan-title">',
        f'<h2 id="plan-title">{_e(offer.tier_name)} plan</h2>',
        f'<p class="price">{price}</p>',
    ]
    if description:
        parts.append(f"<p>{_e(description)}</p>")
    if features:
        parts.append(f'<ul aria-label="Included features">{features}</ul>')
    parts.append("</section>")
    return "\n".join(parts)


def _expiry(moment: datetime | None) -> str:
    if moment is None:
        return '<time id="success-expiry"></time>'
    return (
        f'<time id="success-expiry" datetime="{_e(moment.isoformat())}">'
        f"{_e(moment.strftime('%d %B %Y, %H:%M UTC'))}</time>"
    )


def _success(offer: Offer | None, state: PageState, *, hidden: bool) -> str:
    email = state.values.get("email", "")
    tier = f" for {_e(offer.product_name)} {_e(offer.tier_name)}" if offer else ""
    return f"""
<section id="success" class="success" aria-labelledby="success-title"{" hidden" if hidden else ""}>
<h2 id="success-title" tabindex="-1">Check your email</h2>
<p>We registered <strong id="success-email">{_e(email)}</strong>{tier}.</p>
<p>If this address is new to us, an invitation with a temporary password is on its way:
sign in with it and choose your password. If you already have an account, just sign in.
Then claim your license; you can do so until {_expiry(state.expires_at)}.</p>
<p><a id="portal-link" href="{_e(get_settings().portal_url or "console/")}">Sign in and
claim your license</a></p>
</section>"""


def _form(offer: Offer, state: PageState) -> str:
    return f"""
<form id="register-form" method="post" action="register" aria-describedby="form-intro">
<p id="form-intro">Enter your email address: we will email you how to sign in and get
your license key.</p>
{_field("email", "Email address", "We send the invitation here.", state)}
{_field("emailConfirmation", "Confirm email address", "Type it again.", state)}
<input type="hidden" name="productCode" value="{_e(offer.product_code)}">
<input type="hidden" name="tierCode" value="{_e(offer.tier_code)}">
<button type="submit">Register</button>
</form>"""


def _reference(request_id: str) -> str:
    if not request_id:
        return ""
    return f" Reference for support: <code>{_e(request_id)}</code>."


def _sales(state: PageState) -> str:
    """A link to sales where the tier is not for self-service and one is configured."""
    url = get_settings().sales_url
    if state.code != "TIER_NOT_SELF_SERVICE" or not url:
        return ""
    return f' <a id="sales-link" href="{_e(url)}">Contact sales</a>.'


def register_page(offer: Offer | None, state: PageState | None = None) -> str:
    """The whole page: the offer, a status region, and the form or the success note."""
    state = state or PageState()
    if offer is not None:
        title = f"Register for {offer.product_name} {offer.tier_name}"
        heading = (
            f'<h1>{_e(offer.product_name)} <span class="tier">{_e(offer.tier_name)}</span></h1>'
        )
    else:
        title = "Registration"
        heading = "<h1>Registration</h1>"
    status_class = {"error": "error", "success": "ok"}.get(state.kind, "")
    body = [heading]
    if offer is not None:
        body.append(_plan(offer))
    body.append(
        f'<div id="status" role="status" aria-live="polite" class="{status_class}">'
        f"{_e(state.message)}{_sales(state)}{_reference(state.reference)}</div>"
    )
    if state.kind == "success":
        body.append(_success(offer, state, hidden=False))
    elif offer is not None:  # no form without a self-service tier to register for
        body.append(_form(offer, state))
        body.append(_success(offer, state, hidden=True))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{_e(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
{"".join(body)}
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""


def page(offer: Offer | None, state: PageState | None = None, status: int | None = None) -> Reply:
    """The page as a handler result, with its security headers."""
    return Reply(register_page(offer, state), headers=PAGE_HEADERS, status=status)


# Content negotiation and error pages


def _quality(accept: str, media: str) -> float:
    """The quality ``accept`` gives ``media``: that of its most specific matching range
    (``text/html`` over ``text/*`` over ``*/*``, RFC 9110 section 12.5.1)."""
    ranges = {media: 3, media.split("/")[0] + "/*": 2, "*/*": 1}
    best, quality = 0, 0.0
    for part in accept.split(","):
        name, *params = (piece.strip() for piece in part.split(";"))
        specificity = ranges.get(name.lower(), 0)
        if specificity <= best:
            continue
        best, quality = specificity, 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
    return quality


def wants_html(headers: Mapping[str, str]) -> bool:
    """Whether the client prefers HTML to JSON (a browser's form post, not ``fetch``)."""
    accept = headers.get("accept", "")
    html_quality = _quality(accept, "text/html")
    return html_quality > 0 and html_quality > _quality(accept, "application/json")


def _friendly(problem: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """The status message and per-field messages of a problem."""
    fields: dict[str, str] = {}
    for error in problem.get("errors") or []:
        name = str(error.get("path", "")).rsplit(".", 1)[-1]
        if name in FIELDS:
            message = re.sub(r"^Value error, ", "", str(error.get("message", "")))
            fields[name] = message[:1].upper() + message[1:]
    if problem.get("code") == "VALIDATION_FAILED":
        if fields:
            return "Please correct the highlighted field.", fields
        return "This registration link is incomplete: it must name a product and a tier.", fields
    detail = str(problem.get("detail") or "The registration failed; please try again")
    return detail[:1].upper() + detail[1:] + ".", fields


def _submitted(event: Event, headers: Mapping[str, str]) -> dict[str, str]:
    """The fields of the request, best effort (a page to render, never an error)."""
    values: dict[str, str] = {}
    query = event.get("queryStringParameters") or {}
    values["productCode"] = str(query.get("product", ""))
    values["tierCode"] = str(query.get("tier", ""))
    body = event.get("body") or ""
    if not body or len(body) > 16_384:
        return values
    content_type = headers.get("content-type", "").lower()
    try:
        if event.get("isBase64Encoded"):  # as API Gateway may deliver form posts
            body = base64.b64decode(body, validate=True).decode("utf-8")
        if content_type.startswith("application/x-www-form-urlencoded"):
            document: Any = dict(parse_qsl(body, max_num_fields=64))
        elif "json" in content_type:
            document = json.loads(body)
        else:
            return values
    except ValueError:
        return values
    if isinstance(document, dict):
        for name in ("productCode", "tierCode", *FIELDS):
            if isinstance(document.get(name), str):
                values[name] = document[name][:320]
    return values


def html_errors(
    find_offer: Callable[[str, str], Offer | None], *, always: bool = False
) -> Callable[[LambdaHandler], LambdaHandler]:
    """Wrap an endpoint so that its problems reach a browser as this page in its error
    state (same status, same ``Retry-After``), with the form filled in again. Applies to
    requests that prefer HTML, or to every request when ``always`` (a page route).

    Also gives a problem carrying ``retryAfterSeconds`` its ``Retry-After`` header."""

    def decorate(inner: LambdaHandler) -> LambdaHandler:
        @functools.wraps(inner)
        def handler(event: Event, context: Any) -> LambdaResponse:
            response = inner(event, context)
            response_headers = dict(response.get("headers") or {})
            if not str(response_headers.get("content-type", "")).startswith(
                "application/problem+json"
            ):
                return response
            problem = json.loads(response["body"])
            extra = {}
            if isinstance(problem.get("retryAfterSeconds"), int):
                extra["retry-after"] = str(problem["retryAfterSeconds"])
            headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
            if not (always or wants_html(headers)):
                return {**response, "headers": {**response_headers, **extra}}
            values = _submitted(event, headers)
            offer = None
            if values.get("productCode") and values.get("tierCode"):
                offer = find_offer(values["productCode"], values["tierCode"])
            message, field_errors = _friendly(problem)
            state = PageState(
                kind="error",
                message=message,
                values=values,
                field_errors=field_errors,
                reference=str(problem.get("requestId") or ""),
                code=str(problem.get("code") or ""),
            )
            return {
                "statusCode": response["statusCode"],
                "headers": {**PAGE_HEADERS, **extra},
                "body": register_page(offer, state),
            }

        return handler

    return decorate
