"""Machines that are not always online: machine files, offline activation, borrowed seats,
and the status list that lets a revocation reach a file before it expires.

A *machine file* is the license signed for this machine (``typ: machine-file+jwt``),
encrypted to the machine's key when it has one. It verifies with nothing but the
issuer's JWKS (cached from discovery, or embedded in the app) and this machine's key,
until it expires: the app runs with no network at all.

- An online machine gets one with :meth:`MachineFiles.checkout` (or borrows its seat
  with :meth:`MachineFiles.borrow`, and hands it back with
  :meth:`MachineFiles.return_borrowed`).
- A machine that never reaches the server writes an activation request
  (:meth:`MachineFiles.request`: a JWS signed by its new key, which rides in the ``jwk``
  header), which anyone with connectivity submits (``POST /license-activations/offline``
  or ``licensing activations offline request.jws > response.jws``); the answer is
  imported with :meth:`MachineFiles.import_file`.
- :meth:`MachineFiles.deactivation_proof` deletes the file and writes the proof that
  frees its seat (``POST /license-activations/offline-deactivate``).

Each file carries its entry in a status list (IETF Token Status List). Whenever the app
is online, :meth:`MachineFiles.refresh_status` fetches the list (signed, from the
server that issued the file) and keeps it; a file whose bit is set is refused from then
on, online or not.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import rsa

from licensing_client import http, jose
from licensing_client.errors import (
    ActivationRefused,
    ConfigurationError,
    DeactivationRefused,
    InvalidToken,
    LicenseRevoked,
    NetworkError,
    NotLicensed,
)

if TYPE_CHECKING:
    from licensing_client.client import LicensingClient
    from licensing_client.license import License

MACHINE_FILE_TYP = "machine-file+jwt"
ACTIVATION_REQUEST_TYP = "activation-request+jwt"
DEACTIVATION_PROOF_TYP = "deactivation-proof+jwt"
RETURN_PROOF_TYP = "return-proof+jwt"
STATUS_LIST_TYP = "statuslist+jwt"
#: A status list token longer than this is refused before it is parsed; its bits may
#: decompress to :data:`MAX_STATUS_LIST_BITS` at most (no zip bomb gets further).
MAX_STATUS_LIST_BYTES = 1024 * 1024
MAX_STATUS_LIST_BITS = 1 << 24
#: The code of a file refused because its status list bit is set.
FILE_REVOKED = "FILE_REVOKED"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def activation_request(
    *,
    key_token: str,
    machine_id: str,
    product: str,
    key: rsa.RSAPrivateKey,
    now: float,
    region: str | None = None,
) -> str:
    """An offline activation request: the license key, the machine id, a fresh nonce and
    the time, signed by ``key``, whose public half rides in the ``jwk`` header."""
    claims: dict[str, Any] = {
        "licenseKey": key_token,
        "machineId": machine_id,
        "aud": product,
        "nonce": secrets.token_urlsafe(24),
        "iat": int(now),
    }
    if region is not None:
        claims["region"] = region
    return jose.sign_jws(
        claims, typ=ACTIVATION_REQUEST_TYP, key=key, header={"jwk": jose.public_jwk(key)}
    )


def seat_proof(
    *, license_id: str, activation_id: str, key: rsa.RSAPrivateKey, now: float, typ: str
) -> str:
    """A proof, signed by the machine's key, that frees the seat of ``activation_id``."""
    claims = {
        "sub": license_id,
        "activationId": activation_id,
        "iat": int(now),
        "jti": secrets.token_urlsafe(16),
    }
    return jose.sign_jws(claims, typ=typ, key=key)


def status_reference(claims: Mapping[str, Any]) -> tuple[str, int]:
    """``(uri, idx)`` of a machine file's status list entry."""
    status = claims.get("status")
    entry = status.get("status_list") if isinstance(status, Mapping) else None
    uri = entry.get("uri") if isinstance(entry, Mapping) else None
    index = entry.get("idx") if isinstance(entry, Mapping) else None
    if not isinstance(uri, str) or not isinstance(index, int) or isinstance(index, bool):
        raise InvalidToken("a machine file names its status list entry", code="MALFORMED")
    if index < 0:
        raise InvalidToken("a status list index is not negative", code="MALFORMED")
    return uri, index


@dataclass(frozen=True)
class StatusList:
    """A verified status list: one bit per file, 1 when the file may not be used."""

    uri: str
    issued_at: float
    expires_at: float
    bits: bytes
    token: str

    def revoked(self, index: int) -> bool:
        """Whether the file at ``index`` is revoked; an index the list does not cover is
        refused like a revoked one (the list the server signed cannot vouch for it)."""
        if index >= len(self.bits) * 8:
            return True
        return bool(self.bits[index // 8] >> (index % 8) & 1)


def verify_status_list(
    token: str,
    *,
    keys: jose.KeyResolver,
    issuer: str,
    uri: str,
    now: float,
    leeway: float = jose.DEFAULT_LEEWAY,
    fresh: bool = True,
) -> StatusList:
    """A status list token, verified: RS256 by a key of the issuer, ``typ:
    statuslist+jwt``, ``iss``, ``sub`` the list's URI, one bit per entry. ``fresh``
    also demands it is unexpired (a list kept from earlier still says what it said)."""
    claims = jose.signed_claims(
        token, typ=STATUS_LIST_TYP, keys=keys, max_bytes=MAX_STATUS_LIST_BYTES
    )
    if claims.get("iss") != issuer:
        raise InvalidToken("the status list was issued by another issuer", code="WRONG_ISSUER")
    if claims.get("sub") != uri:
        raise InvalidToken("the status list is not the one the file names", code="MALFORMED")
    issued_at, expires_at = claims.get("iat"), claims.get("exp")
    if not isinstance(issued_at, int | float) or not isinstance(expires_at, int | float):
        raise InvalidToken("a status list has iat and exp", code="MALFORMED")
    if fresh and now > expires_at + leeway:
        raise InvalidToken("the status list has expired", code="EXPIRED")
    status_list = claims.get("status_list")
    if not isinstance(status_list, Mapping) or status_list.get("bits") != 1:
        raise InvalidToken("only one-bit status lists are supported", code="MALFORMED")
    lst = status_list.get("lst")
    if not isinstance(lst, str):
        raise InvalidToken("the status list has no lst", code="MALFORMED")
    return StatusList(uri, float(issued_at), float(expires_at), _inflate(lst), token)


def _inflate(lst: str) -> bytes:
    """The ZLIB-compressed bits, bounded: a list that inflates further is refused."""
    inflater = zlib.decompressobj()
    try:
        bits = inflater.decompress(jose.b64url_decode(lst), MAX_STATUS_LIST_BITS // 8)
    except zlib.error as error:
        raise InvalidToken("the status list does not inflate", code="MALFORMED") from error
    if inflater.unconsumed_tail or not inflater.eof:
        raise InvalidToken("the status list is too large or truncated", code="MALFORMED")
    return bits


class MachineFiles:
    """The machine files of one :class:`~licensing_client.LicensingClient` (its
    ``machine_files``): kept in its data directory, verified offline."""

    def __init__(self, client: LicensingClient):
        self._client = client

    # -- files kept here -------------------------------------------------------------

    def _name(self, kind: str, suffix: str) -> str:
        return f"{kind}.{_SAFE.sub('_', self._client.product)}.{suffix}"

    def _stored(self) -> tuple[str, str] | None:
        """The kept machine file and the machine id it was issued for."""
        storage = self._client.storage
        kept = storage.read_json(self._name("machine-file", "json")) if storage else None
        machine_file = kept.get("machineFile") if kept else None
        machine_id = kept.get("machineId") if kept else None
        if not isinstance(machine_file, str) or not isinstance(machine_id, str):
            return None
        return machine_file, machine_id

    def _store(self, machine_file: str, machine_id: str) -> None:
        storage = self._client.storage
        if storage is not None:
            storage.write_json(
                self._name("machine-file", "json"),
                {"machineFile": machine_file, "machineId": machine_id},
            )
            storage.delete(self._name("offline-request", "json"))

    def _delete(self) -> None:
        if self._client.storage is not None:
            self._client.storage.delete(self._name("machine-file", "json"))

    def _expected_machine_id(self) -> str:
        """This machine's id as the server knows it: the one its pending request named,
        else its activation's, else the SDK's (:meth:`LicensingClient.machine_id`)."""
        client = self._client
        storage = client.storage
        pending = storage.read_json(self._name("offline-request", "json")) if storage else None
        if pending and isinstance(pending.get("machineId"), str):
            return str(pending["machineId"])
        activation = client._stored_activation()
        return activation.machine_id if activation else client.machine_id()

    def _key(self, *, create: bool) -> rsa.RSAPrivateKey:
        key = self._client._load_private_key(create=create)
        if key is None:
            raise ConfigurationError(
                "this machine has no key: write a request first", code="NO_MACHINE_KEY"
            )
        return key

    # -- verification --------------------------------------------------------------

    def verify(self, machine_file: str, *, machine_id: str) -> dict[str, Any]:
        """The claims of a machine file for this product and this machine, verified
        offline: decrypted with the machine's key when it is a JWE, then ``typ:
        machine-file+jwt``, RS256 by a key of the issuer's JWKS, ``iss``, ``aud``,
        ``exp``/``nbf``, the machine id and the status list entry. A license key or a
        machine token is refused (``WRONG_TOKEN_TYPE``)."""
        client = self._client
        inner = (
            jose.decrypt_jwe(machine_file, self._key(create=False))
            if jose.is_jwe(machine_file)
            else machine_file
        )
        claims = client._verify(inner, MACHINE_FILE_TYP)
        if not isinstance(claims.get("activationId"), str):
            raise InvalidToken("a machine file names its activation", code="MALFORMED")
        if claims.get("machineId") != machine_id:
            raise InvalidToken("the machine file is for another machine", code="WRONG_ACTIVATION")
        status_reference(claims)
        return claims

    def import_file(self, machine_file: str, *, machine_id: str | None = None) -> License:
        """Verify a machine file (the server's answer to a request, a checkout or a
        borrow), keep it, and hold its license; the same checks as :meth:`load`. The
        machine id it must name defaults to the one this machine's request named."""
        expected = machine_id or self._expected_machine_id()
        claims = self.verify(machine_file.strip(), machine_id=expected)
        held = self._hold(claims)
        self._store(machine_file.strip(), expected)
        return held

    def load(self, *, check_status: bool = True) -> License | None:
        """The kept machine file's license, verified offline (``None`` without one).
        With ``check_status``, the status list is fetched when the server can be reached
        (else the last one kept is used): a file whose bit is set is refused
        (:class:`LicenseRevoked`, ``FILE_REVOKED``)."""
        kept = self._stored()
        if kept is None:
            return None
        claims = self.verify(kept[0], machine_id=kept[1])
        if check_status:
            self._check_status(claims, fetch=self._client.discovery.online)
        return self._hold(claims)

    def _hold(self, claims: dict[str, Any]) -> License:
        """Hold the license of a verified file, unless the status list kept here has its
        bit set. A refusal of an earlier list is lifted once a newer one clears the bit; a
        refusal by the server (a heartbeat told ``REVOKED``) stays."""
        client = self._client
        held = client._license_of(claims)
        uri, index = status_reference(claims)
        kept = self._kept_list(uri)
        if kept is not None and kept.revoked(index):
            self._revoked(held.license_id)
        with client._lock:
            standing = client._standings[held.license_id]
            if standing.lost is not None and standing.lost.code == FILE_REVOKED:
                standing.lost = None
        held.check()
        with client._lock:
            client._license, client._loss = held, None
        return held

    # -- status lists --------------------------------------------------------------

    def refresh_status(self) -> StatusList | None:
        """Fetch the status list of the kept file now and keep it; raises
        :class:`LicenseRevoked` (``FILE_REVOKED``) when the file's bit is set,
        :class:`NetworkError` when the server cannot be reached. ``None`` without a file."""
        kept = self._stored()
        if kept is None:
            return None
        return self._check_status(self.verify(kept[0], machine_id=kept[1]), fetch=True)

    def _check_status(self, claims: Mapping[str, Any], *, fetch: bool) -> StatusList | None:
        uri, index = status_reference(claims)
        status = self._kept_list(uri)
        if fetch:
            try:
                status = self._fetch_list(uri, status)
            except NetworkError:
                if not self._client.discovery.online:
                    raise
        if status is not None and status.revoked(index):
            self._revoked(str(claims["sub"]))
        return status

    def _list_name(self, uri: str) -> str:
        return f"status-list.{hashlib.sha256(uri.encode()).hexdigest()[:24]}.json"

    def _kept_list(self, uri: str) -> StatusList | None:
        storage = self._client.storage
        kept = storage.read_json(self._list_name(uri)) if storage else None
        token = kept.get("token") if kept else None
        if not isinstance(token, str):
            return None
        try:
            return self._verified_list(token, uri, fresh=False)
        except InvalidToken:
            return None

    def _verified_list(self, token: str, uri: str, *, fresh: bool) -> StatusList:
        client = self._client
        return verify_status_list(
            token,
            keys=client.discovery.key,
            issuer=client.issuer,
            uri=uri,
            now=client.guard.check(),
            leeway=client._leeway,
            fresh=fresh,
        )

    def _fetch_list(self, uri: str, kept: StatusList | None) -> StatusList | None:
        """GET the list (only from the server this client talks to), keep it unless it is
        older than the one kept (a replayed list tells nothing new)."""
        client = self._client
        base = client.discovery.base_url
        if base is None or not uri.startswith(base + "/"):
            raise ConfigurationError(
                "the file's status list is not served by this client's server",
                code="STATUS_LIST_ELSEWHERE",
            )
        response = http.get(
            client._transport,
            uri,
            accept="application/statuslist+jwt",
            timeout=client._timeout,
            now=client._clock(),
        )
        fetched = self._verified_list(
            response.body.decode("ascii", "replace").strip(), uri, fresh=True
        )
        client.guard.observe(fetched.issued_at)
        if kept is not None and kept.issued_at > fetched.issued_at:
            return kept
        if client.storage is not None:
            client.storage.write_json(self._list_name(uri), {"token": fetched.token})
        return fetched

    def _revoked(self, license_id: str) -> None:
        """The file's bit is set: refuse it (it is kept: a suspension lifted later clears
        the bit, and the next list fetched says so)."""
        reason = LicenseRevoked(
            "the machine file was revoked (its status list bit is set)", code=FILE_REVOKED
        )
        self._client._lose(license_id, reason, forget=False)
        raise reason

    # -- offline activation ----------------------------------------------------------

    def request(
        self, key_token: str, machine_id: str | None = None, *, region: str | None = None
    ) -> str:
        """Write an offline activation request for ``key_token`` on this machine (its key
        is created on first use and kept in the data directory: keep the directory until
        the answer is imported). Carry the request to a machine with connectivity."""
        client = self._client
        key_claims = client.verify_license_key(key_token).claims
        machine_id = client.machine_id(machine_id)
        request = activation_request(
            key_token=key_token,
            machine_id=machine_id,
            product=str(key_claims["aud"]),
            key=self._key(create=True),
            now=client.guard.check(),
            region=region,
        )
        if client.storage is not None:
            client.storage.write_json(
                self._name("offline-request", "json"), {"machineId": machine_id}
            )
        return request

    def deactivation_proof(self) -> str:
        """Delete the kept file and write the proof that frees its seat (submit it with
        ``POST /license-activations/offline-deactivate``); the license is no longer
        usable here."""
        proof, license_id = self._proof(DEACTIVATION_PROOF_TYP)
        self._give_up(license_id, "DEACTIVATED")
        return proof

    def _proof(self, typ: str) -> tuple[str, str]:
        """A proof for the kept file's activation, and its license id."""
        kept = self._stored()
        if kept is None:
            raise ConfigurationError("no machine file is kept here", code="NO_MACHINE_FILE")
        claims = self.verify(kept[0], machine_id=kept[1])
        proof = seat_proof(
            license_id=str(claims["sub"]),
            activation_id=str(claims["activationId"]),
            key=self._key(create=False),
            now=self._client.guard.check(),
            typ=typ,
        )
        return proof, str(claims["sub"])

    def _give_up(self, license_id: str, code: str) -> None:
        self._delete()
        reason = NotLicensed(f"this machine's seat was handed back ({code.lower()})", code=code)
        self._client._lose(license_id, reason, forget=False)

    # -- online: checkout and borrowed seats -----------------------------------------

    def checkout(self, ttl_seconds: int | None = None) -> License:
        """A machine file for the current activation (the tier's default lifetime when
        ``ttl_seconds`` is None), kept here: the app can then run offline until it ends."""
        body: dict[str, Any] = {} if ttl_seconds is None else {"ttlSeconds": ttl_seconds}
        return self._file_for("checkout_endpoint", body, "checkout")

    def borrow(self, seconds: int) -> License:
        """Borrow this machine's seat for ``seconds`` of offline use: a machine file until
        then; the seat stays taken until it ends or :meth:`return_borrowed`."""
        return self._file_for("borrow_endpoint", {"seconds": seconds}, "borrow")

    def _file_for(self, endpoint: str, body: dict[str, Any], what: str) -> License:
        client = self._client
        record = client._held_activation(what)
        data = client._post(
            endpoint, {"clientId": record.client_id, **body}, ActivationRefused, what
        )
        machine_file = data.get("machineFile")
        if not isinstance(machine_file, str):
            raise NetworkError(f"{what}: the answer has no machineFile", code="INVALID_RESPONSE")
        return self.import_file(machine_file, machine_id=record.machine_id)

    def return_borrowed(self) -> None:
        """Hand the borrowed seat back now (``POST /license-activations/return`` with a
        proof signed by this machine's key): the seat is free, the file deleted and the
        activation forgotten (activate again to use the app online)."""
        proof, license_id = self._proof(RETURN_PROOF_TYP)
        self._client._post("return_endpoint", {"proof": proof}, DeactivationRefused, "return")
        self._give_up(license_id, "RETURNED")
        self._client._forget_activation()
