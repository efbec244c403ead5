"""A licensed app in one file: activate, gate features, report usage, heartbeat, react
to revocation. It works for any product: it shows what the license itself grants.

    python sdk/examples/app.py --base-url http://127.0.0.1:8000 --key "$KEY" --run-for 30

``--base-url``, ``--key`` and ``--product`` default to ``$LICENSING_URL``,
``$LICENSING_KEY`` and ``$LICENSING_PRODUCT`` (else the demo product, Rdn.Identity). A
second run resumes the stored activation offline (no key needed). Revoke the key on the
server while this runs (with ``--renew-every 5`` so it renews often): the app notices at
its next renewal and turns its features off.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from licensing_client import (
    License,
    LicensingClient,
    LicensingError,
    QuotaExceeded,
    StepUpRequired,
)


def when(timestamp: float) -> str:
    """``2027-01-31 12:00:00 UTC``: a date, a time and its zone."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S %Z")


def gates(client: LicensingClient, features: frozenset[str]) -> str:
    return ", ".join(f"{f}={'on' if client.has(f) else 'off'}" for f in sorted(features)) or "none"


def show(license_: License, client: LicensingClient) -> None:
    print(
        f"  license {license_.license_id}: product {license_.product}, tier {license_.tier}, "
        f"token valid until {when(license_.expires_at)}"
    )
    print(f"  features: {gates(client, license_.features)}")
    limits = ", ".join(f"{name}={value}" for name, value in sorted(license_.limits.items()))
    print(f"  limits: {limits or 'none'}")


def guarded_action(client: LicensingClient, feature: str, claims: dict[str, object]) -> None:
    """A premium action: licensed *and* a recent, strong enough sign-in."""
    try:
        client.require(feature, id_token_claims=claims)
    except StepUpRequired as challenge:
        print(
            f"  {feature} with acr={claims['acr']} needs a step-up; answer 401 with\n"
            f"    WWW-Authenticate: {challenge.www_authenticate}"
        )
    except LicensingError as error:
        print(f"  {feature} refused: {error.code}")
    else:
        print(f"  {feature} with acr={claims['acr']} allowed")


def step_up_demo(license_: License, client: LicensingClient) -> None:
    """The step-up rule of the first feature that has one, with a weak and a strong sign-in."""
    guarded = sorted(license_.step_up)
    if not guarded:
        print("  no feature of this tier needs a step-up")
        return
    now = time.time()
    guarded_action(client, guarded[0], {"acr": "pwd", "auth_time": now - 60})
    guarded_action(client, guarded[0], {"acr": "mfa", "amr": ["pwd", "otp"], "auth_time": now - 60})


def usage_demo(license_: License, client: LicensingClient) -> None:
    """One unit of the tier's first metered quota (retried safely: one idempotency key)."""
    if not license_.meters:
        print("  no metered quota in this tier: no usage to report")
        return
    meter = sorted(license_.meters)[0]
    try:
        result = client.report_usage(meter, 1)
    except QuotaExceeded as over:
        print(f"  {meter}: quota reached ({over.used} of {over.limit} used)")
    except LicensingError as error:
        print(f"  {meter}: usage not reported ({error.code})")
    else:
        print(
            f"  {meter}: {result.used} of {result.limit} used, {result.remaining} left "
            f"until {when(result.period_ends_at.timestamp())}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--base-url", default=os.environ.get("LICENSING_URL"), help="licensing server URL"
    )
    parser.add_argument(
        "--key", default=os.environ.get("LICENSING_KEY"), help="license key (or @file)"
    )
    parser.add_argument(
        "--product",
        default=os.environ.get("LICENSING_PRODUCT", "Rdn.Identity"),
        help="product code (default %(default)s)",
    )
    parser.add_argument(
        "--data-dir", type=Path, help="where the activation is kept (default: user data dir)"
    )
    parser.add_argument("--machine-id", help="machine id (default: derived from the OS)")
    parser.add_argument(
        "--run-for", type=float, default=10.0, help="seconds to run (default %(default)s)"
    )
    parser.add_argument(
        "--renew-every", type=float, help="renew this often (demo), not at nextHeartbeatAt"
    )
    parser.add_argument("--deactivate", action="store_true", help="free the seat when done")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    if not args.base_url:
        parser.error("--base-url or LICENSING_URL is required")
    key = args.key
    if key and key.startswith("@"):
        key = Path(key[1:]).read_text().strip()

    client = LicensingClient(
        args.base_url,
        product=args.product,
        app_name="licensing-example",
        data_dir=args.data_dir,
        machine_id=args.machine_id,
    )
    try:
        license_ = client.resume()
        if license_ is not None:
            print("resumed the stored activation (verified offline)")
        elif key:
            license_ = client.activate(key)
            print("activated this machine")
        else:
            parser.error("no stored activation: pass --key or set LICENSING_KEY")
    except LicensingError as error:
        print(f"cannot license this app: {error}", file=sys.stderr)
        return 1
    show(license_, client)
    step_up_demo(license_, client)
    usage_demo(license_, client)
    features = license_.features

    ended = threading.Event()

    def on_renewed(renewed: License) -> None:
        print(f"renewed: token valid until {when(renewed.expires_at)}")

    def on_revoked(error: LicensingError) -> None:
        print(f"REVOKED by the server ({error.code}): features are now {gates(client, features)}")
        ended.set()

    def on_expired(error: LicensingError) -> None:
        print(f"license expired ({error.code}): features are now {gates(client, features)}")
        ended.set()

    def on_error(error: LicensingError) -> None:
        held = client.license is not None and client.license.usable()
        print(f"renewal failed ({error.code}), will retry; still licensed: {held}")

    deadline = time.monotonic() + args.run_for
    with client.start_heartbeats(
        on_renewed=on_renewed, on_revoked=on_revoked, on_expired=on_expired, on_error=on_error
    ) as heartbeats:
        try:
            while not ended.is_set() and time.monotonic() < deadline:
                wait = min(args.renew_every or args.run_for, deadline - time.monotonic())
                if ended.wait(max(0.0, wait)):
                    break
                if args.renew_every:
                    heartbeats.renew_now()
        except KeyboardInterrupt:
            print("interrupted")
    if args.deactivate and client.activation is not None:
        client.deactivate()
        print("deactivated: the seat is free")
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
