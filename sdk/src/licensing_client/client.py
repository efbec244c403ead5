"""``LicensingClient``: discovery, offline verification, activation, renewal, gating."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import rsa

from licensing_client import http, jose, machine
from licensing_client.clock import DEFAULT_TOLERANCE, ClockGuard
from licensing_client.discovery import DEFAULT_REFRESH_COOLDOWN, Discovery
from licensing_client.errors import (
    ActivationRefused,
    ConfigurationError,
    DeactivationRefused,
    HeartbeatRefused,
    InvalidToken,
    LicenseExpired,
    LicenseRevoked,
    NetworkError,
    NotLicensed,
    RequestRefused,
    UsageRefused,
)
from licensing_client.license import AcrLevels, License, Standing
from licensing_client.offline import MachineFiles
from licensing_client.retry import RetryPolicy
from licensing_client.storage import Storage, default_data_dir
from licensing_client.usage import UsageResult

if TYPE_CHECKING:
    from licensing_client.heartbeat import AsyncHeartbeats, HeartbeatLoop

log = logging.getLogger("licensing_client")

#: Refusals after which the license is gone for good: ``on_revoked``.
REVOKING_CODES = frozenset({"REVOKED", "SUSPENDED", "IDENTITY_DEACTIVATED", "SUPERSEDED"})
#: Refusals that say this activation no longer exists (re-activation may bring it back).
LOST_ACTIVATION_CODES = frozenset({"UNKNOWN_CLIENT", "ACTIVATION_DEAD", "NOT_FOUND"})
#: Refusals after which the license has ended: ``on_expired``.
EXPIRING_CODES = frozenset({"EXPIRED"})
#: Refusals that change what this client holds (:meth:`LicensingClient._refused`).
LICENSE_REFUSAL_CODES = REVOKING_CODES | LOST_ACTIVATION_CODES | EXPIRING_CODES
DEFAULT_HEARTBEAT_INTERVAL = 3600.0


def _timestamp(value: object) -> float | None:
    """An RFC 3339 string or a POSIX number as POSIX seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
    return None


@dataclass
class Activation:
    """What this machine keeps of its activation (in ``activation.<product>.json``, 0600)."""

    product: str
    base_url: str
    license_id: str
    client_id: str = field(repr=False)
    token: str = field(repr=False)
    token_type: str
    expires_at: float
    next_heartbeat_at: float
    machine_id: str = field(repr=False)
    encrypted: bool
    key_token: str | None = field(default=None, repr=False)
    activation_id: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Activation | None:
        try:
            record = cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except TypeError:
            return None
        strings = (
            record.product,
            record.base_url,
            record.client_id,
            record.token,
            record.machine_id,
        )
        return record if all(isinstance(v, str) and v for v in strings) else None


class LicensingClient:
    """The licensing service, seen from the app.

    ``LicensingClient(base_url, product="Rdn.Identity")`` talks to a server (discovery at
    ``{base_url}/.well-known/license-configuration``); :meth:`offline` verifies with an
    embedded JWKS and never touches the network. Everything time-related reads ``clock``.

    Files (``data_dir``, default the platform's user data directory for ``app_name``):
    the machine's private key, the activation (client id, token, license key), the cached
    discovery documents and the last trusted time, each ``0600``.
    """

    def __init__(
        self,
        base_url: str | None,
        *,
        product: str,
        app_name: str | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        persist: bool = True,
        issuer: str | None = None,
        jwks: Mapping[str, Any] | None = None,
        machine_id: str | None = None,
        app_version: str | None = None,
        describe_machine: bool = True,
        encrypt: bool = True,
        reactivate: bool = True,
        leeway: float = jose.DEFAULT_LEEWAY,
        clock_tolerance: float = DEFAULT_TOLERANCE,
        clock: Callable[[], float] = time.time,
        transport: http.Transport | None = None,
        timeout: float = 10.0,
        jwks_refresh_cooldown: float = DEFAULT_REFRESH_COOLDOWN,
        acr_levels: AcrLevels | Mapping[str, int] | None = None,
        allow_http: bool = False,
        retry: RetryPolicy | None = None,
    ):
        if not product:
            raise ConfigurationError("product is the product code, e.g. 'Rdn.Identity'")
        if not 0 <= leeway <= 300:
            raise ConfigurationError("leeway is a small number of seconds (0..300)")
        self.product = product
        self.app_name = app_name or product
        self._clock = clock
        self._leeway = leeway
        self._timeout = timeout
        self._encrypt = encrypt
        self._reactivate = reactivate
        self._retry = retry or RetryPolicy()
        self._machine_id = machine_id
        self._app_version = app_version
        self._describe_machine = describe_machine
        self._transport: http.Transport = transport or http.UrllibTransport()
        if data_dir is not None:
            self.storage: Storage | None = Storage(Path(data_dir))
        elif persist and base_url is not None:
            self.storage = Storage(default_data_dir(self.app_name))
        else:
            self.storage = None
        self._acr = (
            acr_levels
            if isinstance(acr_levels, AcrLevels)
            else AcrLevels(acr_levels)
            if acr_levels is not None
            else AcrLevels()
        )
        self._discovery = Discovery(
            base_url,
            transport=self._transport,
            clock=clock,
            storage=self.storage,
            issuer=issuer,
            embedded_jwks=jwks,
            refresh_cooldown=jwks_refresh_cooldown,
            timeout=timeout,
            allow_http=allow_http,
        )
        self.guard = ClockGuard(clock=clock, tolerance=clock_tolerance, storage=self.storage)
        self._lock = threading.RLock()
        self._standings: dict[str, Standing] = {}
        self._private_key: rsa.RSAPrivateKey | None = None
        self._activation: Activation | None = None
        self._license: License | None = None
        #: Why the last held license was dropped (``require()`` raises it).
        self._loss: NotLicensed | None = None

    @classmethod
    def offline(
        cls,
        *,
        jwks: Mapping[str, Any],
        issuer: str,
        product: str,
        **options: Any,
    ) -> LicensingClient:
        """A client that only verifies, with keys embedded in the app: no network ever."""
        return cls(None, product=product, jwks=jwks, issuer=issuer, **options)

    def __repr__(self) -> str:
        where = self._discovery.base_url or "offline"
        return f"LicensingClient({where!r}, product={self.product!r})"

    # -- discovery -----------------------------------------------------------------

    @property
    def discovery(self) -> Discovery:
        return self._discovery

    @property
    def issuer(self) -> str:
        return self._discovery.issuer

    def jwks(self) -> dict[str, Any]:
        """The public keys known now, to embed in a build for offline verification."""
        return self._discovery.jwks()

    @cached_property
    def machine_files(self) -> MachineFiles:
        """Offline use: machine files (checkout, offline activation, borrowed seats) and
        the status list that revokes them (see :mod:`licensing_client.offline`)."""
        return MachineFiles(self)

    # -- verification --------------------------------------------------------------

    def _verify(self, token: str, typ: str) -> dict[str, Any]:
        now = self.guard.check()
        claims = jose.verify_jws(
            token,
            typ=typ,
            keys=self._discovery.key,
            issuer=self._discovery.issuer,
            audience=self.product,
            now=now,
            leeway=self._leeway,
        )
        iat = claims.get("iat")
        if iat is not None and iat > self.guard.trusted:
            self.guard.observe(iat)
            self.guard.check(now)  # a token from well after "now": the clock is behind
        return claims

    def _license_of(self, claims: dict[str, Any]) -> License:
        """A License owning ``claims`` (fresh from verification, held by no one else)."""
        sub = claims["sub"]
        standing = self._standings.get(sub)
        if standing is None:
            standing = self._standings.setdefault(sub, Standing())
        return License._of_verified(
            claims, self._clock, self._leeway, self._acr, standing, self.guard.floor
        )

    def verify_license_key(self, key_token: str) -> License:
        """Verify a license key (``typ: license+jwt``) offline: signature (RS256, a key of
        the issuer's JWKS), ``iss``, ``aud`` = this product, ``exp``/``nbf``. Raises
        :class:`InvalidToken` (with a ``code``) or :class:`ClockTampered`."""
        return self._license_of(self._verify(key_token, jose.LICENSE_TYP))

    def _machine_claims(self, token: str, *, encrypted: bool | None = None) -> dict[str, Any]:
        if jose.is_jwe(token):
            key = self._load_private_key(create=False)
            if key is None:
                raise InvalidToken("no machine key to decrypt this token", code="DECRYPTION_FAILED")
            inner = jose.decrypt_jwe(token, key)
        elif encrypted:
            raise InvalidToken(
                "the machine token should be encrypted to this machine's key",
                code="WRONG_TOKEN_TYPE",
            )
        else:
            inner = token
        claims = self._verify(inner, jose.ACTIVATION_TYP)
        if not isinstance(claims.get("cid"), str):
            raise InvalidToken("a machine token names its client (cid)", code="MALFORMED")
        return claims

    def verify_machine_token(self, token: str) -> License:
        """Verify a machine (activation) token, JWS or JWE (decrypted with this machine's
        key): ``typ: activation+jwt``, and everything a license key is checked for."""
        return self._license_of(self._machine_claims(token))

    # -- the held license ----------------------------------------------------------

    @property
    def license(self) -> License | None:
        """The license of the current activation (renewed by heartbeats), or ``None``."""
        return self._license

    @property
    def activation(self) -> Activation | None:
        return self._activation

    def has(self, feature: str) -> bool:
        """Whether the held license grants ``feature`` now (``False`` without one)."""
        held = self._license
        return held is not None and held.has(feature)

    def limit(self, name: str) -> int | float | None:
        held = self._license
        return None if held is None else held.limit(name)

    def require(
        self,
        feature: str,
        *,
        id_token_claims: Mapping[str, Any] | None = None,
        now: float | None = None,
    ) -> None:
        """:meth:`License.require` on the held license (raises :class:`NotLicensed` when
        there is none)."""
        held = self._license
        if held is None:
            if self._loss is not None:
                raise self._loss.with_traceback(None)
            raise NotLicensed("no license is held: activate first", code="NOT_ACTIVATED")
        if now is None:
            now = self.guard.check()
        held.require(feature, id_token_claims=id_token_claims, now=now)

    def _lose(self, license_id: str, reason: NotLicensed, *, forget: bool) -> None:
        """The license stops being usable: every License of it answers ``has() == False``."""
        with self._lock:
            self._standings.setdefault(license_id, Standing()).lost = reason
            if self._license is not None and self._license.license_id == license_id:
                self._license = None
                self._loss = reason
            if forget:
                self._forget_activation()

    def expire(self, reason: NotLicensed | None = None) -> None:
        """Drop the held license (the heartbeat loop calls this when the token expired or
        the grace period ran out); the activation is kept, a renewal brings it back."""
        with self._lock:
            held = self._license
            record = self._activation
            license_id = held.license_id if held else record.license_id if record else None
            if license_id is not None:
                self._lose(
                    license_id,
                    reason or LicenseExpired("the machine token expired before it was renewed"),
                    forget=False,
                )

    # -- machine key and stored activation -----------------------------------------

    def _activation_file(self) -> str:
        return "activation." + re.sub(r"[^A-Za-z0-9_.-]", "_", self.product) + ".json"

    def _load_private_key(self, *, create: bool) -> rsa.RSAPrivateKey | None:
        if self._private_key is None:
            if self.storage is not None:
                if create or self.storage.read_bytes(machine.KEY_FILE) is not None:
                    self._private_key = machine.load_or_create_key(self.storage)
            elif create:
                self._private_key = machine.generate_private_key()
        return self._private_key

    def _save_activation(self) -> None:
        if self.storage is not None and self._activation is not None:
            self.storage.write_json(self._activation_file(), asdict(self._activation))

    def _forget_activation(self) -> None:
        self._activation = None
        if self.storage is not None:
            self.storage.delete(self._activation_file())

    def _held_activation(self, what: str) -> Activation:
        """The current (or stored) activation, made current; ``NOT_ACTIVATED`` without."""
        with self._lock:
            record = self._activation or self._stored_activation()
            if record is None:
                raise ConfigurationError(f"nothing to {what}: activate first", code="NOT_ACTIVATED")
            self._activation = record
            return record

    def _stored_activation(self) -> Activation | None:
        if self._activation is not None:
            return self._activation
        if self.storage is None or self._discovery.base_url is None:
            return None
        data = self.storage.read_json(self._activation_file())
        record = Activation.from_dict(data) if data else None
        if record is None or record.product != self.product:
            return None
        if record.base_url != self._discovery.base_url:
            return None
        return record

    def machine_id(self, explicit: str | None = None) -> str:
        """The machine id sent at activation (see :mod:`licensing_client.machine`)."""
        return machine.machine_id(
            self.app_name, explicit=explicit or self._machine_id, storage=self.storage
        )

    # -- server calls --------------------------------------------------------------

    def _post(
        self, endpoint: str, body: Mapping[str, Any], refused: type[RequestRefused], what: str
    ) -> dict[str, Any]:
        url = self._discovery.endpoint(endpoint)
        now = self._clock()
        response = self._transport(
            "POST",
            url,
            body=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json, application/problem+json",
                "User-Agent": http.USER_AGENT,
            },
            timeout=self._timeout,
        )
        self.guard.anchor(http.date_header(response.headers))
        http.raise_for_problem(response, refused=refused, what=what, now=now)
        data = response.json()
        if not isinstance(data, dict):
            raise NetworkError(f"{what}: the answer is not a JSON object", code="INVALID_RESPONSE")
        return data

    def _accept(
        self,
        data: Mapping[str, Any],
        *,
        license_id: str,
        client_id: str,
        machine_id: str,
        encrypted: bool,
    ) -> tuple[License, str, float, float]:
        """Verify a token the server just issued for this activation."""
        token = data.get("token")
        if not isinstance(token, str):
            raise NetworkError("the answer has no token", code="INVALID_RESPONSE")
        token_type = "jwe" if jose.is_jwe(token) else "jws"
        if data.get("tokenType") not in (None, token_type):
            raise InvalidToken(f"tokenType says {data.get('tokenType')!r}, the token is not")
        claims = self._machine_claims(token, encrypted=encrypted)
        if claims.get("cid") != client_id or claims.get("sub") != license_id:
            raise InvalidToken(
                "the token was issued for another activation", code="WRONG_ACTIVATION"
            )
        if claims.get("machineId", machine_id) != machine_id:
            raise InvalidToken("the token was issued for another machine", code="WRONG_ACTIVATION")
        held = self._license_of(claims)
        expires_at = _timestamp(data.get("expiresAt")) or held.expires_at
        issued = held.issued_at or self._clock()
        next_at = _timestamp(data.get("nextHeartbeatAt"))
        if next_at is None:
            next_at = issued + (held.heartbeat_interval or DEFAULT_HEARTBEAT_INTERVAL)
        # never plan the renewal after the token's half-life
        next_at = min(next_at, issued + max(0.0, held.expires_at - issued) / 2)
        return held, token, expires_at, next_at

    def activate(
        self, key_token: str, machine_id: str | None = None, *, app_version: str | None = None
    ) -> License:
        """Activate ``key_token`` on this machine and keep the activation.

        The key is verified offline first; this machine's RSA-2048 key pair is created
        (or loaded) and its public key sent, so the token comes back encrypted (JWE) for
        this machine only; the token is verified, and the client id, token and key are
        stored (``0600``) so that :meth:`resume` works offline after a restart. The
        machine's host name and platform go along (unless ``describe_machine=False``), and
        the application's version (``app_version``, here or to the client). Raises
        :class:`ActivationRefused` (server ``code``: ``SEAT_LIMIT_REACHED``, ``REVOKED``...),
        :class:`InvalidToken`, :class:`NetworkError`.
        """
        with self._lock:
            base_url = self._discovery.base_url
            if base_url is None:
                raise ConfigurationError("an offline client cannot activate", code="OFFLINE")
            key_claims = jose.verify_jws(
                key_token,
                typ=jose.LICENSE_TYP,
                keys=self._discovery.key,
                issuer=self._discovery.issuer,
                audience=self.product,
                now=self._clock(),
                leeway=self._leeway,
            )
            machine_id = self.machine_id(machine_id)
            body: dict[str, Any] = {
                "keyToken": key_token,
                "machineId": machine_id,
                "product": self.product,
                **machine.details(
                    describe=self._describe_machine,
                    app_version=app_version or self._app_version,
                ),
            }
            if self._encrypt:
                private_key = self._load_private_key(create=True)
                assert private_key is not None
                body["publicKey"] = machine.public_key_pem(private_key)
            data = self._post("activation_endpoint", body, ActivationRefused, "activation")
            client_id = data.get("clientId")
            if not isinstance(client_id, str) or not client_id:
                raise NetworkError("the activation has no clientId", code="INVALID_RESPONSE")
            held, token, expires_at, next_at = self._accept(
                data,
                license_id=key_claims["sub"],
                client_id=client_id,
                machine_id=machine_id,
                encrypted=self._encrypt,
            )
            activation_id = data.get("activationId")
            self._activation = Activation(
                product=self.product,
                base_url=base_url,
                license_id=held.license_id,
                client_id=client_id,
                token=token,
                token_type="jwe" if jose.is_jwe(token) else "jws",
                expires_at=expires_at,
                next_heartbeat_at=next_at,
                machine_id=machine_id,
                encrypted=self._encrypt,
                key_token=key_token,
                activation_id=activation_id if isinstance(activation_id, str) else None,
            )
            self._save_activation()
            self._standings[held.license_id].lost = None
            self._license, self._loss = held, None
            log.info("license %s activated on this machine", held.license_id)
            return held

    def resume(self, *, renew_if_expired: bool = True) -> License | None:
        """The stored activation's license, verified offline (``None`` when there is
        none). An expired stored token is renewed by a heartbeat when ``renew_if_expired``
        (which needs the network)."""
        with self._lock:
            record = self._stored_activation()
            if record is None:
                return None
            self._activation = record
            try:
                claims = self._machine_claims(record.token, encrypted=record.encrypted)
            except InvalidToken as error:
                if error.code == "EXPIRED" and renew_if_expired:
                    return self.heartbeat()
                raise
            if claims.get("cid") != record.client_id or claims.get("sub") != record.license_id:
                raise InvalidToken(
                    "the stored token is for another activation", code="WRONG_ACTIVATION"
                )
            held = self._license_of(claims)
            held.check()
            self._license, self._loss = held, None
            return held

    def heartbeat(self) -> License:
        """Renew the machine token now. Raises :class:`HeartbeatRefused` with the server's
        code; after ``REVOKED``/``SUSPENDED``/``IDENTITY_DEACTIVATED``/``SUPERSEDED`` or
        ``EXPIRED`` the license is dropped (``has()`` is ``False``) and the stored
        activation forgotten. ``UNKNOWN_CLIENT``/``ACTIVATION_DEAD`` re-activate with the
        stored key when ``reactivate`` (the default)."""
        with self._lock:
            record = self._held_activation("renew")
            try:
                data = self._post(
                    "heartbeat_endpoint",
                    {"clientId": record.client_id},
                    HeartbeatRefused,
                    "heartbeat",
                )
            except HeartbeatRefused as refusal:
                return self._refused(refusal, record)
            held, token, expires_at, next_at = self._accept(
                data,
                license_id=record.license_id,
                client_id=record.client_id,
                machine_id=record.machine_id,
                encrypted=record.encrypted,
            )
            record.token, record.expires_at, record.next_heartbeat_at = token, expires_at, next_at
            record.token_type = "jwe" if jose.is_jwe(token) else "jws"
            self._save_activation()
            self._standings[held.license_id].lost = None
            self._license, self._loss = held, None
            return held

    def _refused(self, refusal: RequestRefused, record: Activation) -> License:
        """What a license refusal of the server (``LICENSE_REFUSAL_CODES``) does to what
        this client holds: the license is dropped and ``refusal`` raised, unless the
        activation was reclaimed and could be re-activated (the new license is returned)."""
        code = refusal.code
        if code in REVOKING_CODES:
            self._lose(record.license_id, LicenseRevoked(refusal.detail, code=code), forget=True)
            log.warning("the license was refused by the server: %s", code)
            raise refusal
        if code in EXPIRING_CODES:
            self._lose(record.license_id, LicenseExpired(refusal.detail, code=code), forget=True)
            raise refusal
        if code in LOST_ACTIVATION_CODES:
            if self._reactivate and record.key_token:
                log.info("the activation is gone (%s): activating again", code)
                try:
                    return self.activate(record.key_token, machine_id=record.machine_id)
                except ActivationRefused as failed:
                    reason: NotLicensed = (
                        LicenseRevoked(failed.detail, code=failed.code)
                        if failed.code in REVOKING_CODES
                        else LicenseExpired(failed.detail, code=failed.code)
                    )
                    self._lose(record.license_id, reason, forget=True)
                    raise
            self._lose(record.license_id, LicenseExpired(refusal.detail, code=code), forget=True)
        raise refusal

    def deactivate(self) -> None:
        """Free this machine's seat (``POST deactivation_endpoint``) and forget the
        activation; the license is no longer usable here."""
        with self._lock:
            record = self._activation or self._stored_activation()
            if record is None:
                return
            try:
                self._post(
                    "deactivation_endpoint",
                    {"clientId": record.client_id},
                    DeactivationRefused,
                    "deactivation",
                )
            except DeactivationRefused as refusal:
                if refusal.code not in LOST_ACTIVATION_CODES:
                    raise
            self._lose(
                record.license_id,
                NotLicensed("this machine was deactivated", code="DEACTIVATED"),
                forget=True,
            )

    # -- usage ---------------------------------------------------------------------

    def report_usage(
        self, meter: str, quantity: int, *, idempotency_key: str | None = None
    ) -> UsageResult:
        """Count ``quantity`` of the quota ``meter`` against the activated license
        (``POST /usage``) and answer the meter's figures.

        Every attempt of the call sends the same idempotency key (``idempotency_key``, else
        a new UUID4), so a retry never counts twice. Network errors, 5xx, rate limits (429
        but ``QUOTA_EXCEEDED``; no sooner than ``Retry-After``) and 409 are retried with
        jittered exponential backoff (``retry=`` of the client: 4 attempts, 0.5 s doubling
        to 8 s); a reclaimed activation is re-activated (see :meth:`heartbeat`) and the
        report sent again. Raises :class:`QuotaExceeded` (nothing counted, never retried),
        :class:`IdempotencyKeyReused`, :class:`UsageRefused` (``REVOKED``... drop the
        license, as a heartbeat refusal does), :class:`NetworkError` once the attempts
        are spent, :class:`ConfigurationError` ``NOT_ACTIVATED``.
        """
        report = _UsageReport(self, meter, quantity, idempotency_key)
        while True:
            try:
                return report.attempt()
            except (NetworkError, UsageRefused) as error:
                self._retry.sleep(report.backoff(error))

    async def report_usage_async(
        self, meter: str, quantity: int, *, idempotency_key: str | None = None
    ) -> UsageResult:
        """:meth:`report_usage` for asyncio: each request runs in a worker thread, the
        waits between attempts on the event loop."""
        report = _UsageReport(self, meter, quantity, idempotency_key)
        while True:
            try:
                return await asyncio.to_thread(report.attempt)
            except (NetworkError, UsageRefused) as error:
                await asyncio.sleep(report.backoff(error))

    # -- heartbeats ----------------------------------------------------------------

    def start_heartbeats(self, **options: Any) -> HeartbeatLoop:
        """Start renewing in a background thread; see :class:`HeartbeatLoop`."""
        from licensing_client.heartbeat import HeartbeatLoop

        loop = HeartbeatLoop(self, **options)
        loop.start()
        return loop

    def heartbeats_async(self, **options: Any) -> AsyncHeartbeats:
        """The asyncio variant: ``async with client.heartbeats_async(...)``."""
        from licensing_client.heartbeat import AsyncHeartbeats

        return AsyncHeartbeats(self, **options)

    def close(self) -> None:
        """Persist the trusted time (heartbeat loops are stopped by their owner)."""
        self.guard.flush()

    def __enter__(self) -> LicensingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _UsageReport:
    """One :meth:`LicensingClient.report_usage` call: one body, hence one idempotency
    key, for all of its attempts."""

    def __init__(
        self, client: LicensingClient, meter: str, quantity: int, idempotency_key: str | None
    ):
        self.client = client
        self.key = idempotency_key or str(uuid.uuid4())
        self.body = {"meter": meter, "quantity": quantity, "idempotencyKey": self.key}
        self.attempts = 0
        self.sent_for: str | None = None  #: the client id of the latest attempt

    def attempt(self) -> UsageResult:
        client = self.client
        self.attempts += 1
        record = client._held_activation("report usage for")
        self.sent_for = record.client_id
        try:
            data = client._post(
                "usage_endpoint",
                {"clientId": record.client_id, **self.body},
                UsageRefused,
                "usage report",
            )
        except UsageRefused as refusal:
            if refusal.code in LICENSE_REFUSAL_CODES:
                with client._lock:
                    if client._activation is record:  # not handled by another thread yet
                        client._refused(refusal, record)
            raise
        return UsageResult.of(data, self.key)

    def backoff(self, error: NetworkError | UsageRefused) -> float:
        """Seconds before the next attempt; raises ``error`` when it is final or the
        attempts are spent."""
        policy = self.client._retry
        if self.attempts >= policy.attempts:
            raise error
        if isinstance(error, NetworkError):
            return policy.delay(self.attempts, error.retry_after)
        if error.status == 409:  # in progress, concurrent change: the same key is safe
            return policy.delay(self.attempts)
        current = self.client.activation
        if error.code in LOST_ACTIVATION_CODES and current and current.client_id != self.sent_for:
            return 0.0  # re-activated meanwhile: report again, now
        raise error
