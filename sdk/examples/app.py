"""A licensed app in one file: activate, gate features, heartbeat, react to revocation.

    python sdk/examples/app.py --base-url http://127.0.0.1:8000 --key "$KEY" --run-for 30

``--base-url`` and ``--key`` default to ``$LICENSING_URL`` and ``$LICENSING_KEY``. A second
run resumes the stored activation offline (no key needed). Revoke the key on the server
while this runs (with ``--renew-every 5`` so it renews often): the app notices at its
next renewal and turns its features off.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from pathlib import Path

from licensing_client import (
    License,
    LicensingClient,
    LicensingError,
    StepUpRequired,
)

FEATURES = ("sso", "passkeys", "multi_tenant", "audit_log", "data_export", "priority_support")


def gates(client: LicensingClient) -> str:
    return ", ".join(f"{f}={'on' if client.has(f) else 'off'}" for f in FEATURES)


def show(license_: License, client: LicensingClient) -> None:
    print(
        f"  license {license_.license_id}: tier {license_.tier}, token valid until "
        f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(license_.expires_at))}"
    )
    print(f"  features: {gates(client)}")
    print(
        f"  limits: maxUsers={license_.limit('maxUsers')}, api_calls={license_.limit('api_calls')}"
    )


def export_data(client: LicensingClient, id_token_claims: dict[str, object]) -> None:
    """A premium action: licensed *and* a recent, strong enough sign-in."""
    try:
        client.require("data_export", id_token_claims=id_token_claims)
    except StepUpRequired as challenge:
        print(
            f"  data export needs a step-up; answer 401 with\n    WWW-Authenticate: {challenge.www_authenticate}"
        )
    except LicensingError as error:
        print(f"  data export refused: {error.code}")
    else:
        print("  data export allowed")


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
        "--product", default="Rdn.Identity", help="product code (default %(default)s)"
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
    now = time.time()
    export_data(client, {"acr": "pwd", "auth_time": now - 60})
    export_data(client, {"acr": "mfa", "amr": ["pwd", "otp"], "auth_time": now - 60})

    ended = threading.Event()

    def on_renewed(renewed: License) -> None:
        print(
            f"renewed: token valid until {time.strftime('%H:%M:%S', time.localtime(renewed.expires_at))}"
        )

    def on_revoked(error: LicensingError) -> None:
        print(f"REVOKED by the server ({error.code}): features are now {gates(client)}")
        ended.set()

    def on_expired(error: LicensingError) -> None:
        print(f"license expired ({error.code}): features are now {gates(client)}")
        ended.set()

    def on_error(error: LicensingError) -> None:
        print(f"renewal failed ({error.code}), will retry; still licensed: {client.has('sso')}")

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
