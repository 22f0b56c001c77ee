"""The signature schemes (dovecote/schemes.py): sign and verify side by side, one class a scheme."""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
import sys

import pytest

from dovecote.schemes import (
    DEFAULT_TOLERANCE_SECONDS,
    SCHEMES,
    HmacSha256Hex,
    HmacSha256HexTimestamped,
    Scheme,
    SignedContent,
    SigningError,
    StandardWebhooks,
    StandardWebhooksAsymmetric,
    WebhookVerificationError,
    scheme_named,
)

NOW = 1_800_000_000
CONTENT = SignedContent(body=b'{"type":"order.created","data":{"id":7}}', message_id="del_01", timestamp=NOW)
STANDARD_SECRETS = [
    "whsec_" + base64.b64encode(bytes(range(32))).decode(),
    "whsec_" + base64.b64encode(bytes(range(100, 132))).decode(),
    "whsec_" + base64.b64encode(bytes(range(200, 232))).decode(),
]
HEX_SECRETS = ["current-secret", "previous-secret", "oldest-secret"]


def every_scheme() -> list[Scheme]:
    return [StandardWebhooks(), HmacSha256Hex("sha256="), HmacSha256Hex(), HmacSha256HexTimestamped("v1=")]


def secrets_for(scheme: Scheme) -> list[str]:
    return STANDARD_SECRETS if isinstance(scheme, StandardWebhooks) else HEX_SECRETS


def scheme_id(scheme: Scheme) -> str:
    return f"{scheme.name}[{scheme.signature_prefix}]"


# Known vectors --------------------------------------------------------------------------------


def test_standard_webhooks_matches_the_specifications_test_vector() -> None:
    content = SignedContent(
        body=b'{"test": 2432232314}', message_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330
    )
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    assert StandardWebhooks().sign([secret], content) == expected
    StandardWebhooks().verify(expected, [secret], content, now=1614265330 + 10)


def test_hmac_sha256_hex_matches_the_published_github_example() -> None:
    # GitHub's documented X-Hub-Signature-256 example: the same recipe as the seeds' `sha256=<hex>`.
    content = SignedContent(body=b"Hello, World!")
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

    assert HmacSha256Hex("sha256=").sign(["It's a Secret to Everybody"], content) == expected
    HmacSha256Hex("sha256=").verify(expected, ["It's a Secret to Everybody"], content, now=NOW)


def test_hmac_sha256_hex_matches_rfc_4231_test_case_2() -> None:
    content = SignedContent(body=b"what do ya want for nothing?")

    assert HmacSha256Hex().sign(["Jefe"], content) == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def test_the_timestamped_hex_scheme_signs_timestamp_dot_body() -> None:
    expected = hmac.new(b"Jefe", f"{NOW}.".encode() + CONTENT.body, hashlib.sha256).hexdigest()

    assert HmacSha256HexTimestamped().sign(["Jefe"], CONTENT) == expected


# Round trip, tampering, tolerance --------------------------------------------------------------


@pytest.mark.parametrize("scheme", every_scheme(), ids=scheme_id)
def test_what_a_scheme_signs_it_verifies(scheme: Scheme) -> None:
    secret = secrets_for(scheme)[0]

    header = scheme.sign([secret], CONTENT)

    scheme.verify(header, [secret], CONTENT, now=NOW)
    assert header.startswith(scheme.signature_prefix)


@pytest.mark.parametrize("scheme", every_scheme(), ids=scheme_id)
def test_a_changed_body_or_another_secret_is_rejected(scheme: Scheme) -> None:
    secret, other = secrets_for(scheme)[:2]
    header = scheme.sign([secret], CONTENT)
    changed = SignedContent(body=CONTENT.body.replace(b"7", b"8"), message_id="del_01", timestamp=NOW)

    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        scheme.verify(header, [secret], changed, now=NOW)
    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        scheme.verify(header, [other], CONTENT, now=NOW)


@pytest.mark.parametrize("scheme", [s for s in every_scheme() if s.signs_timestamp], ids=scheme_id)
def test_a_changed_timestamp_is_rejected_where_it_is_signed(scheme: Scheme) -> None:
    secret = secrets_for(scheme)[0]
    header = scheme.sign([secret], CONTENT)
    later = SignedContent(body=CONTENT.body, message_id=CONTENT.message_id, timestamp=NOW + 1)

    with pytest.raises(WebhookVerificationError):
        scheme.verify(header, [secret], later, now=NOW)


def test_a_changed_message_id_is_rejected_by_standard_webhooks() -> None:
    secret = STANDARD_SECRETS[0]
    header = StandardWebhooks().sign([secret], CONTENT)
    renamed = SignedContent(body=CONTENT.body, message_id="del_02", timestamp=NOW)

    with pytest.raises(WebhookVerificationError):
        StandardWebhooks().verify(header, [secret], renamed, now=NOW)


def test_the_message_id_and_timestamp_are_not_part_of_a_plain_hex_signature() -> None:
    scheme = HmacSha256Hex("sha256=")
    header = scheme.sign(HEX_SECRETS[:1], CONTENT)

    scheme.verify(header, HEX_SECRETS[:1], SignedContent(body=CONTENT.body), now=NOW + 10 * DEFAULT_TOLERANCE_SECONDS)


@pytest.mark.parametrize("scheme", [s for s in every_scheme() if s.signs_timestamp], ids=scheme_id)
@pytest.mark.parametrize("skew", [DEFAULT_TOLERANCE_SECONDS + 1, -DEFAULT_TOLERANCE_SECONDS - 1])
def test_a_timestamp_outside_the_tolerance_is_a_replay(scheme: Scheme, skew: int) -> None:
    secret = secrets_for(scheme)[0]
    header = scheme.sign([secret], CONTENT)

    with pytest.raises(WebhookVerificationError, match="tolerance"):
        scheme.verify(header, [secret], CONTENT, now=NOW + skew)
    scheme.verify(header, [secret], CONTENT, now=NOW + skew, tolerance=abs(skew))
    scheme.verify(header, [secret], CONTENT, now=NOW - skew // abs(skew) * DEFAULT_TOLERANCE_SECONDS)


def test_hex_signatures_compare_case_insensitively_but_base64_does_not() -> None:
    hex_header = HmacSha256Hex("sha256=").sign(HEX_SECRETS[:1], CONTENT)
    HmacSha256Hex("sha256=").verify(hex_header.upper(), HEX_SECRETS[:1], CONTENT, now=NOW)

    standard_header = StandardWebhooks().sign(STANDARD_SECRETS[:1], CONTENT)
    swapped = "v1," + standard_header.removeprefix("v1,").swapcase()
    with pytest.raises(WebhookVerificationError):
        StandardWebhooks().verify(swapped, STANDARD_SECRETS[:1], CONTENT, now=NOW)


def test_only_v1_standard_webhooks_signatures_count() -> None:
    header = StandardWebhooks().sign(STANDARD_SECRETS[:1], CONTENT)

    with pytest.raises(WebhookVerificationError):
        StandardWebhooks().verify("v2," + header.removeprefix("v1,"), STANDARD_SECRETS[:1], CONTENT, now=NOW)


# Rotation: several secrets, several signatures -------------------------------------------------


def test_standard_webhooks_signs_with_every_live_secret_and_each_verifies_alone() -> None:
    header = StandardWebhooks().sign(STANDARD_SECRETS, CONTENT)

    assert len(header.split(" ")) == len(STANDARD_SECRETS)
    for secret in STANDARD_SECRETS:
        StandardWebhooks().verify(header, [secret], CONTENT, now=NOW)
    with pytest.raises(WebhookVerificationError):
        StandardWebhooks().verify(header, ["whsec_" + base64.b64encode(b"x" * 32).decode()], CONTENT, now=NOW)


@pytest.mark.parametrize("scheme", [s for s in every_scheme() if not s.signs_with_every_secret], ids=scheme_id)
def test_single_signature_schemes_sign_once_with_the_oldest_live_secret(scheme: Scheme) -> None:
    header = scheme.sign(HEX_SECRETS, CONTENT)

    assert " " not in header
    assert header == scheme.sign(HEX_SECRETS[-1:], CONTENT)
    scheme.verify(header, HEX_SECRETS, CONTENT, now=NOW)
    with pytest.raises(WebhookVerificationError):
        scheme.verify(header, HEX_SECRETS[:-1], CONTENT, now=NOW)


@pytest.mark.parametrize("scheme", every_scheme(), ids=scheme_id)
def test_one_match_among_several_signatures_and_several_secrets_passes(scheme: Scheme) -> None:
    secrets = secrets_for(scheme)
    unrelated = scheme.sign(secrets[1:2], CONTENT)
    header = f"{unrelated} {scheme.sign(secrets[:1], CONTENT)}"

    scheme.verify(header, [secrets[2], secrets[0]], CONTENT, now=NOW)
    with pytest.raises(WebhookVerificationError):
        scheme.verify(header, [secrets[2]], CONTENT, now=NOW)


# Refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", every_scheme(), ids=scheme_id)
def test_no_secret_means_no_signature(scheme: Scheme) -> None:
    with pytest.raises(SigningError, match="no signing secret"):
        scheme.sign([], CONTENT)
    with pytest.raises(SigningError):
        scheme.verify("anything", [], CONTENT, now=NOW)


@pytest.mark.parametrize("scheme", [s for s in every_scheme() if s.signs_timestamp], ids=scheme_id)
def test_a_timestamped_scheme_refuses_content_without_a_timestamp(scheme: Scheme) -> None:
    with pytest.raises(SigningError, match="timestamp"):
        scheme.sign(secrets_for(scheme), SignedContent(body=b"{}", message_id="del_01"))


def test_a_standard_webhooks_secret_must_be_whsec_and_base64_of_24_to_64_bytes() -> None:
    scheme = StandardWebhooks()
    with pytest.raises(SigningError, match="base64"):
        scheme.sign(["whsec_not base64!"], CONTENT)
    for bad in (
        "not-whsec",
        "whsec_" + base64.b64encode(b"x" * 16).decode(),
        "whsec_" + base64.b64encode(b"x" * 65).decode(),
    ):
        with pytest.raises(SigningError, match="24 to 64"):
            scheme.check_secret(bad)
    scheme.check_secret(STANDARD_SECRETS[0])
    HmacSha256Hex().check_secret("any printable string")


def test_standard_webhooks_fixes_its_prefix() -> None:
    assert StandardWebhooks().signature_prefix == "v1,"
    with pytest.raises(SigningError, match="signature_prefix is fixed to 'v1,'"):
        StandardWebhooks("sha256=")


# The registry -----------------------------------------------------------------------------------


def test_the_registry_names_every_shipped_scheme() -> None:
    assert {
        "standard-webhooks": StandardWebhooks,
        "standard-webhooks-v1a": StandardWebhooksAsymmetric,
        "hmac-sha256-hex": HmacSha256Hex,
        "hmac-sha256-hex-timestamped": HmacSha256HexTimestamped,
    } == SCHEMES
    assert isinstance(scheme_named("hmac-sha256-hex", "sha256="), HmacSha256Hex)
    assert scheme_named("hmac-sha256-hex", "sha256=").signature_prefix == "sha256="
    with pytest.raises(ValueError, match="unknown signing scheme 'md5'"):
        scheme_named("md5")


def test_adding_a_scheme_is_one_class() -> None:
    class HmacSha256Base64(Scheme):
        name = "test-hmac-sha256-base64"

        def encode_digest(self, digest: bytes) -> str:
            return base64.b64encode(digest).decode()

        def normalized(self, signature: str) -> str:
            return signature

    try:
        scheme = scheme_named("test-hmac-sha256-base64", "sig=")
        header = scheme.sign(HEX_SECRETS, CONTENT)
        scheme.verify(header, HEX_SECRETS[-1:], CONTENT, now=NOW)
        expected = base64.b64encode(hmac.new(b"oldest-secret", CONTENT.body, hashlib.sha256).digest()).decode()
        assert header == f"sig={expected}"
    finally:
        del SCHEMES["test-hmac-sha256-base64"]


def test_a_scheme_name_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="defined twice"):

        class Again(Scheme):
            name = "hmac-sha256-hex"


def test_the_scheme_module_needs_only_the_standard_library() -> None:
    code = (
        "import sys; import dovecote.schemes, dovecote.verify, dovecote.profiles; "
        "print(sorted(m for m in ('pydantic', 'requests', 'functions') if m in sys.modules))"
    )
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)

    assert finished.stdout.strip() == "[]"
