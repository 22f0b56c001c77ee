"""Ed25519 (RFC 8032), standard library only, for the Standard Webhooks `v1a` scheme.

The arithmetic of RFC 8032 section 5.1 in extended twisted Edwards coordinates. Signing
and checking take a few milliseconds, which is what a webhook needs: one signature per
delivery. Not constant-time: it signs with keys only Dovecote holds and checks public data.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

__all__ = ["KEY_BYTES", "SIGNATURE_BYTES", "public_key", "sign", "verify"]

KEY_BYTES = 32
SIGNATURE_BYTES = 64

_P = 2**255 - 19
_D = -121665 * pow(121666, -1, _P) % _P
_Q = 2**252 + 27742317777372353535851937790883648493
_SQRT_MINUS_ONE = pow(2, (_P - 1) // 4, _P)

Point = tuple[int, int, int, int]


def _add(a: Point, b: Point) -> Point:
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    e = (y1 - x1) * (y2 - x2) % _P
    f = (y1 + x1) * (y2 + x2) % _P
    g = t1 * 2 * _D * t2 % _P
    h = z1 * 2 * z2 % _P
    e, f, g, h = f - e, h - g, h + g, f + e
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _multiply(scalar: int, point: Point) -> Point:
    result: Point = (0, 1, 1, 0)
    while scalar > 0:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def _equal(a: Point, b: Point) -> bool:
    x1, y1, z1, _ = a
    x2, y2, z2, _ = b
    return (x1 * z2 - x2 * z1) % _P == 0 and (y1 * z2 - y2 * z1) % _P == 0


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, -1, _P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_MINUS_ONE % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


_GY = 4 * pow(5, -1, _P) % _P
_GX = _recover_x(_GY, 0) or 0
_BASE: Point = (_GX, _GY, 1, _GX * _GY % _P)


def _compress(point: Point) -> bytes:
    x, y, z, _ = point
    inverse = pow(z, -1, _P)
    x, y = x * inverse % _P, y * inverse % _P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def _decompress(data: bytes) -> Point | None:
    if len(data) != KEY_BYTES:
        return None
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return x, y, 1, x * y % _P


def _hash_to_scalar(data: bytes) -> int:
    return int.from_bytes(hashlib.sha512(data).digest(), "little") % _Q


@lru_cache(maxsize=64)
def _expand(secret_key: bytes) -> tuple[int, bytes, bytes]:
    """The secret scalar, the signing prefix and the public key of a 32-byte secret key."""
    if len(secret_key) != KEY_BYTES:
        raise ValueError(f"an Ed25519 secret key is {KEY_BYTES} bytes")
    digest = hashlib.sha512(secret_key).digest()
    scalar = int.from_bytes(digest[:32], "little")
    scalar &= (1 << 254) - 8
    scalar |= 1 << 254
    return scalar, digest[32:], _compress(_multiply(scalar, _BASE))


def public_key(secret_key: bytes) -> bytes:
    return _expand(secret_key)[2]


def sign(secret_key: bytes, message: bytes) -> bytes:
    scalar, prefix, public = _expand(secret_key)
    nonce = _hash_to_scalar(prefix + message)
    commitment = _compress(_multiply(nonce, _BASE))
    challenge = _hash_to_scalar(commitment + public + message)
    return commitment + int.to_bytes((nonce + challenge * scalar) % _Q, 32, "little")


def verify(public: bytes, message: bytes, signature: bytes) -> bool:
    if len(signature) != SIGNATURE_BYTES:
        return False
    point = _decompress(public)
    commitment = _decompress(signature[:32])
    if point is None or commitment is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _Q:
        return False
    challenge = _hash_to_scalar(signature[:32] + public + message)
    return _equal(_multiply(s, _BASE), _add(commitment, _multiply(challenge, point)))
