"""Machine public keys, over HTTP: activation accepts exactly the RSA public keys the
service can encrypt machine tokens to (PEM or JWK). Every other key, however well it
parses, is a 422 ``INVALID_PUBLIC_KEY`` that writes nothing, so refused requests never
fill a license's seats."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import (
    dh,
    dsa,
    ec,
    ed448,
    ed25519,
    mldsa,
    mlkem,
    rsa,
    x448,
    x25519,
)
from cryptography.x509.oid import NameOID
from jwcrypto import jwe, jwk

from tests.security.support import Api, Json, License, World, assert_problem, new_rsa_key

pytestmark = pytest.mark.e2e

ACTIVATE = ("POST", "/license-activations/activate")
PublicKey = str | Json

# --- DER, written by hand so that any key can be built, however broken ------------------

RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
RSASSA_PSS = "1.2.840.113549.1.1.10"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
SM2_CURVE = "1.2.156.10197.1.301"
#: RFC 3526 group 14 (2048-bit MODP): DH keys without generating parameters.
MODP_2048 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA4836"
    "1C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804"
    "F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6"
    "955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
    16,
)


def _tlv(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + body


def _integer(value: int, *, padding: int = 0) -> bytes:
    """A DER INTEGER, with ``padding`` superfluous leading zero octets (not DER then)."""
    return _tlv(0x02, b"\0" * padding + value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _oid(dotted: str) -> bytes:
    first, second, *rest = (int(part) for part in dotted.split("."))
    body = bytes([40 * first + second])
    for value in rest:
        chunk = [value & 0x7F]
        while value := value >> 7:
            chunk.append(0x80 | (value & 0x7F))
        body += bytes(reversed(chunk))
    return _tlv(0x06, body)


def _spki(algorithm: bytes, key: bytes) -> bytes:
    return _tlv(0x30, _tlv(0x30, algorithm) + _tlv(0x03, b"\0" + key))


def _rsa_spki(n: int, e: int, *, padding: int = 0, oid: str = RSA_ENCRYPTION) -> bytes:
    parameters = b"\x05\x00" if oid == RSA_ENCRYPTION else b""  # RSASSA-PSS: absent
    return _spki(_oid(oid) + parameters, _tlv(0x30, _integer(n, padding=padding) + _integer(e)))


def _armor(der: bytes, label: str = "PUBLIC KEY") -> str:
    body = base64.b64encode(der).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _octets(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _rsa_jwk(n: int | bytes, e: int = 65537, **members: Any) -> Json:
    return {
        "kty": "RSA",
        "n": _b64url(n if isinstance(n, bytes) else _octets(n)),
        "e": _b64url(_octets(e)),
        **members,
    }


# --- Keys ------------------------------------------------------------------------------


@cache
def _machine() -> rsa.RSAPrivateKey:
    return new_rsa_key()


def _n() -> int:
    return _machine().public_key().public_numbers().n


def _pem(key: Any) -> str:
    return str(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
    )


def _private_pem(
    key: Any,
    form: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8,
    encryption: serialization.KeySerializationEncryption | None = None,
) -> str:
    return str(
        key.private_bytes(
            serialization.Encoding.PEM, form, encryption or serialization.NoEncryption()
        ).decode()
    )


def _certificate() -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "machine")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(_machine().public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(_machine(), hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _square() -> int:
    """p * p for a 1024-bit prime: 2048 bits, odd, and not an RSA modulus."""
    p = new_rsa_key().private_numbers().p
    return p * p


def _odd(bits: int) -> int:
    """An odd number of exactly ``bits`` bits (its size is what is wrong with it)."""
    return (1 << (bits - 1)) | secrets.randbits(bits - 1) | 1


def _valid_spki() -> bytes:
    return _rsa_spki(_n(), 65537)


#: RSA "public keys" whose numbers are wrong, as ``(modulus, exponent)``; each is sent as
#: PEM and as JWK.
RSA_NUMBERS: dict[str, Callable[[], tuple[int, int]]] = {
    "even-modulus": lambda: (_n() ^ 1, 65537),
    "modulus-with-factor-3": lambda: (3 * (_n() // 3 | 1), 65537),
    "modulus-a-square": lambda: (_square(), 65537),
    "exponent-1": lambda: (_n(), 1),
    "exponent-3": lambda: (_n(), 3),
    "exponent-even": lambda: (_n(), 65538),
    "exponent-2^64+1": lambda: (_n(), 2**64 + 1),
    "exponent-n-2": lambda: (_n(), _n() - 2),
    "exponent-n": lambda: (_n(), _n()),
    "1024-bits": lambda: (
        rsa.generate_private_key(65537, 1024).public_key().public_numbers().n,
        65537,
    ),
    "2040-bits": lambda: (_odd(2040), 65537),
    "8200-bits": lambda: (_odd(8200), 65537),
    "16384-bits": lambda: (_odd(16384), 65537),
}

#: Keys of other types, each as PEM (and as JWK where JOSE has one).
OTHER_TYPES: dict[str, Callable[[], Any]] = {
    "ec-p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ec-p384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "ec-secp256k1": lambda: ec.generate_private_key(ec.SECP256K1()),
    "ed25519": ed25519.Ed25519PrivateKey.generate,
    "ed448": ed448.Ed448PrivateKey.generate,
    "x25519": x25519.X25519PrivateKey.generate,
    "x448": x448.X448PrivateKey.generate,
    "dsa": lambda: dsa.generate_private_key(1024),
    "dh": lambda: dh.DHParameterNumbers(MODP_2048, 2).parameters().generate_private_key(),
    "ml-kem-768": mlkem.MLKEM768PrivateKey.generate,
    "ml-dsa-65": mldsa.MLDSA65PrivateKey.generate,
}


def _ec_jwk(key: Any) -> Json:
    return dict(jwk.JWK.from_pyca(key).export_public(as_dict=True))


def _okp_jwk(curve: str, key: Any) -> Json:
    """jwcrypto knows no X448: OKP keys are their raw octets."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": curve, "x": _b64url(raw)}


#: The JWK of each key type JOSE has one for.
JOSE_TYPES: dict[str, Callable[[Any], Json]] = {
    "ec-p256": _ec_jwk,
    "ec-p384": _ec_jwk,
    "ec-secp256k1": _ec_jwk,
    "ed25519": partial(_okp_jwk, "Ed25519"),
    "ed448": partial(_okp_jwk, "Ed448"),
    "x25519": partial(_okp_jwk, "X25519"),
    "x448": partial(_okp_jwk, "X448"),
}


def _pem_of_numbers(numbers: Callable[[], tuple[int, int]]) -> str:
    return _armor(_rsa_spki(*numbers()))


def _jwk_of_numbers(numbers: Callable[[], tuple[int, int]]) -> Json:
    return _rsa_jwk(*numbers())


def _pem_of_type(name: str) -> str:
    return _pem(OTHER_TYPES[name]().public_key())


def _jwk_of_type(name: str) -> Json:
    return JOSE_TYPES[name](OTHER_TYPES[name]().public_key())


def _hostile() -> dict[str, Callable[[], PublicKey]]:
    cases: dict[str, Callable[[], PublicKey]] = {}
    for name, numbers in RSA_NUMBERS.items():
        cases[f"pem-{name}"] = partial(_pem_of_numbers, numbers)
        cases[f"jwk-{name}"] = partial(_jwk_of_numbers, numbers)
    cases |= {f"pem-{name}": partial(_pem_of_type, name) for name in OTHER_TYPES}
    cases |= {f"jwk-{name}": partial(_jwk_of_type, name) for name in JOSE_TYPES}
    cases |= {
        # RSA keys in the wrong envelope
        "pem-rsassa-pss-only": lambda: _armor(_rsa_spki(_n(), 65537, oid=RSASSA_PSS)),
        "pem-modulus-with-leading-zero": lambda: _armor(_rsa_spki(_n(), 65537, padding=1)),
        "pem-sm2-curve": lambda: _armor(
            _spki(_oid(EC_PUBLIC_KEY) + _oid(SM2_CURVE), b"\x04" + bytes(64))
        ),
        "pem-two-keys": lambda: _pem(_machine().public_key()) + _pem(new_rsa_key().public_key()),
        "pem-trailing-garbage": lambda: _pem(_machine().public_key()) + "and then some\n",
        "pem-leading-garbage": lambda: "hello\n" + _pem(_machine().public_key()),
        "pem-trailing-der-bytes": lambda: _armor(_valid_spki() + b"\0\0"),
        "pem-headers": lambda: _pem(_machine().public_key()).replace(
            "KEY-----\n", "KEY-----\nProc-Type: 4,ENCRYPTED\n\n", 1
        ),
        "pem-mismatched-labels": lambda: _pem(_machine().public_key()).replace(
            "END PUBLIC", "END RSA PUBLIC"
        ),
        "pem-pkcs1-body-as-spki": lambda: _armor(
            _machine()
            .public_key()
            .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
        ),
        "pem-spki-body-as-pkcs1": lambda: _armor(_valid_spki(), "RSA PUBLIC KEY"),
        "pem-certificate": _certificate,
        "pem-private-pkcs8": lambda: _private_pem(_machine()),
        "pem-private-rsa": lambda: _private_pem(
            _machine(), serialization.PrivateFormat.TraditionalOpenSSL
        ),
        "pem-private-encrypted": lambda: _private_pem(
            _machine(),
            encryption=serialization.BestAvailableEncryption(b"correct horse"),
        ),
        "pem-garbage-base64": lambda: _armor(secrets.token_bytes(320)),
        "pem-invalid-base64": lambda: (
            "-----BEGIN PUBLIC KEY-----\n!!not*base64!!\n-----END PUBLIC KEY-----\n"
        ),
        "pem-empty-body": lambda: "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n",
        "pem-huge": lambda: _armor(secrets.token_bytes(11_200)),
        "openssh": lambda: (
            _machine()
            .public_key()
            .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
            .decode()
        ),
        "bare-der-base64": lambda: base64.b64encode(_valid_spki()).decode(),
        "empty-string": lambda: "",
        # JWKs that are not one RSA public key
        "jwk-private": lambda: dict(jwk.JWK.from_pyca(_machine()).export_private(as_dict=True)),
        "jwk-with-d": lambda: _rsa_jwk(_n(), d="AQAB"),
        "jwk-with-oth": lambda: _rsa_jwk(_n(), oth=[]),
        "jwk-oct": lambda: {"kty": "oct", "k": _b64url(secrets.token_bytes(32))},
        "jwk-lowercase-kty": lambda: {**_rsa_jwk(_n()), "kty": "rsa"},
        "jwk-unknown-kty": lambda: {**_rsa_jwk(_n()), "kty": "RSA-PSS"},
        "jwk-without-n": lambda: {"kty": "RSA", "e": "AQAB"},
        "jwk-n-a-number": lambda: {"kty": "RSA", "n": _n(), "e": "AQAB"},
        "jwk-n-a-list": lambda: {"kty": "RSA", "n": [_b64url(_octets(_n()))], "e": "AQAB"},
        "jwk-e-a-number": lambda: {**_rsa_jwk(_n()), "e": 65537},
        "jwk-n-padded": lambda: {**_rsa_jwk(_n()), "n": _rsa_jwk(_n())["n"] + "=="},
        "jwk-n-standard-base64": lambda: {**_rsa_jwk(_n()), "n": "+/" + _rsa_jwk(_n())["n"][2:]},
        "jwk-n-with-whitespace": lambda: {**_rsa_jwk(_n()), "n": " " + _rsa_jwk(_n())["n"]},
        "jwk-2048-bits-with-leading-zero": lambda: _rsa_jwk(b"\0" + _octets(_n())),
        "jwk-declared-2048-bits-is-2040": lambda: _rsa_jwk(b"\0" + _octets(_odd(2040))),
        "jwk-huge-n": lambda: {**_rsa_jwk(_n()), "n": "A" * 40_000},
        "jwk-for-signatures": lambda: _rsa_jwk(_n(), use="sig"),
        "jwk-key-ops-verify": lambda: _rsa_jwk(_n(), key_ops=["verify"]),
        "jwk-alg-rs256": lambda: _rsa_jwk(_n(), alg="RS256"),
        "jwk-unknown-member": lambda: _rsa_jwk(_n(), secret="x"),
    }
    return cases


HOSTILE = _hostile()


@pytest.fixture(scope="module")
def two_seats(world: World) -> License:
    """A 2-seat license that every hostile key is sent to: none may take a seat."""
    return world.license("two")


def _activate(api: Api, license: License, public_key: PublicKey | None, machine: str) -> Any:
    body: Json = {"keyToken": license.key_token, "machineId": machine}
    if public_key is not None:
        body["publicKey"] = public_key
    return api.anon(*ACTIVATE, body)


@pytest.mark.filterwarnings(
    "ignore:Diffie-Hellman:cryptography.utils.CryptographyDeprecationWarning"
)
@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_key_the_service_cannot_use_is_422_and_holds_no_seat(
    api: Api, two_seats: License, name: str
) -> None:
    public_key = HOSTILE[name]()
    with api.dynamo.unchanged(ACTIVATE):  # no seat, activation, machine claim or audit
        reply = _activate(api, two_seats, public_key, f"hostile-{name}")
    assert_problem(
        reply,
        422,
        "INVALID_PUBLIC_KEY",
        secrets=[public_key if isinstance(public_key, str) else ""],
    )
    assert api.dynamo.active_seats(two_seats.license_id) == 0


def test_after_every_refused_key_both_seats_are_still_free(api: Api, two_seats: License) -> None:
    for machine in ("first", "second"):
        reply = _activate(api, two_seats, _pem(new_rsa_key().public_key()), machine)
        assert reply.status == 201, reply.body
    assert_problem(_activate(api, two_seats, None, "third"), 409, "SEAT_LIMIT_REACHED")
    assert api.dynamo.active_seats(two_seats.license_id) == 2


def _pkcs1(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        .decode()
    )


#: Every form a machine may send its key in: (the private key, what it sends).
ACCEPTED: dict[str, Callable[[rsa.RSAPrivateKey], PublicKey]] = {
    "pem-spki": lambda key: _pem(key.public_key()),
    "pem-spki-crlf": lambda key: _pem(key.public_key()).replace("\n", "\r\n"),
    "pem-pkcs1": _pkcs1,
    "jwk": lambda key: _rsa_jwk(key.public_key().public_numbers().n),
    "jwk-webcrypto-export": lambda key: _rsa_jwk(
        key.public_key().public_numbers().n, alg="RSA-OAEP", ext=True, key_ops=["encrypt"]
    ),
    "jwk-for-encryption": lambda key: _rsa_jwk(
        key.public_key().public_numbers().n, use="enc", kid="machine-1"
    ),
}


@pytest.mark.parametrize(
    ("form", "bits"), [(form, 2048) for form in ACCEPTED] + [("pem-spki", 3072), ("jwk", 4096)]
)
def test_an_rsa_public_key_in_any_accepted_form_gets_tokens_only_it_can_read(
    api: Api, world: World, form: str, bits: int
) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    reply = _activate(api, world.license(), ACCEPTED[form](private), f"accepted-{form}")
    assert reply.status == 201, reply.body
    assert reply.body["tokenType"] == "jwe", reply.body
    envelope = jwe.JWE()
    envelope.deserialize(reply.body["token"], key=jwk.JWK.from_pyca(private))
    assert envelope.jose_header["alg"] == "RSA-OAEP"
    assert envelope.payload.count(b".") == 2  # the signed machine token inside
