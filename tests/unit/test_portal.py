"""The portal function: its settings, the page and its headers, the assets and the session answer."""

from __future__ import annotations

import json

import pytest

from functions.core.constants import MAX_RATE_LIMIT_PER_SECOND
from functions.portal.branding import (
    DEFAULT_ACCENT_COLOR,
    DEFAULT_NAME,
    PortalBranding,
    PortalSettingsError,
    branding_from_environment,
    parse_branding,
)
from functions.portal.handler import SESSION_EXPIRED, reset_branding, respond, session
from functions.portal.pages import asset_version, content_security_policy, page

NOW = 1_800_000_000.0
SETTING_NAMES = {
    "accent_color": "accent colour",
    "logo_url": "logo URL",
    "frame_ancestors": "frame ancestor",
    "name": "portal name",
}
"""How a refusal names each setting."""


def directives(policy: str) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else "" for part in policy.split("; ")}


# --- settings ------------------------------------------------------------------------------


def test_every_setting_has_a_default_and_no_one_may_frame_the_portal_by_default():
    assert branding_from_environment({}) == PortalBranding(DEFAULT_NAME, "", DEFAULT_ACCENT_COLOR, ())


def test_settings_survive_the_trip_through_the_environment():
    branding = parse_branding(
        name="Acme Cloud",
        logo_url="https://cdn.acme.example/logo.svg",
        accent_color="#ABC",
        frame_ancestors="'self' https://app.acme.example,https://*.acme.example:8443",
    )

    assert branding.accent_color == "#abc"
    assert branding.frame_ancestors == ("'self'", "https://app.acme.example", "https://*.acme.example:8443")
    assert branding_from_environment(branding.environment()) == branding


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("accent_color", "red"),
        ("accent_color", "#12345"),
        ("accent_color", "#1234567"),
        ("accent_color", "#4f46e5; script-src *"),
        ("accent_color", "url(x)"),
        ("accent_color", "#gggggg"),
        ("logo_url", "javascript:alert(1)"),
        ("logo_url", "http://cdn.example.com/logo.png"),
        ("logo_url", "https://cdn.example.com/logo.png' ; script-src *"),
        ("logo_url", "https://cdn.example.com/a b.png"),
        ("logo_url", "https://user:pw@cdn.example.com/logo.png"),
        ("logo_url", "data:image/svg+xml,<svg/>"),
        ("logo_url", "//cdn.example.com/logo.png"),
        ("frame_ancestors", "http://app.example.com"),
        ("frame_ancestors", "https://app.example.com/path"),
        ("frame_ancestors", "*"),
        ("frame_ancestors", "https://*"),
        ("frame_ancestors", "https://app.example.com; script-src *"),
        ("frame_ancestors", "ftp://app.example.com"),
        ("frame_ancestors", "https://app_example.com"),
        ("name", "x" * 81),
        ("name", "tab\there"),
        ("name", "line\nbreak"),
    ],
)
def test_a_setting_not_of_its_form_is_refused_naming_the_setting(setting: str, value: str):
    """Accent: a hex colour; logo: a plain https URL; frame ancestors: https origins; name: at most 80
    printable characters."""
    with pytest.raises(PortalSettingsError, match=SETTING_NAMES[setting]):
        parse_branding(**{setting: value})


def test_a_loopback_logo_may_be_plain_http_for_local_development():
    assert parse_branding(logo_url="http://127.0.0.1:9000/logo.svg").logo_origin == "http://127.0.0.1:9000"


# --- the page ------------------------------------------------------------------------------


def test_the_page_allows_only_its_own_origin_and_no_html_from_strings():
    policy = directives(content_security_policy(PortalBranding()))

    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["img-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["require-trusted-types-for"] == "'script'"
    assert policy["trusted-types"] == "'none'"
    assert policy["base-uri"] == policy["form-action"] == policy["object-src"] == "'none'"
    assert "unsafe" not in content_security_policy(PortalBranding())


def test_the_configured_origins_may_frame_the_page_and_the_logo_origin_may_serve_images():
    branding = parse_branding(
        logo_url="https://cdn.acme.example/img/logo.svg", frame_ancestors="https://app.acme.example 'self'"
    )

    response = page(branding)
    policy = directives(response.headers["Content-Security-Policy"])

    assert policy["frame-ancestors"] == "https://app.acme.example 'self'"
    assert policy["img-src"] == "'self' https://cdn.acme.example"
    assert "X-Frame-Options" not in response.headers


def test_an_unframeable_page_also_says_so_to_old_browsers():
    assert page(PortalBranding()).headers["X-Frame-Options"] == "DENY"


def test_the_page_sends_no_referrer_and_is_revalidated_while_assets_are_cached_by_content():
    response = page(PortalBranding())

    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-cache"
    assert f"portal/assets/portal.js?v={asset_version('portal.js')}" in response.body
    assert f"portal/assets/portal.css?v={asset_version('portal.css')}" in response.body
    assert "//" not in response.body  # no other origin: every URL in the page is relative


def test_the_page_carries_the_apis_highest_rate_limit_for_the_forms_check():
    body = page(PortalBranding()).body

    assert f'data-max-rate-limit="{MAX_RATE_LIMIT_PER_SECOND}"' in body
    assert "{{" not in body


def test_the_name_is_escaped_into_the_page():
    name = '"><script>alert(1)</script>'
    response = page(PortalBranding(name=name))

    assert "<script>alert(1)</script>" not in response.body
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in response.body


# --- the handler ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_branding(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DOVECOTE_PORTAL_NAME", "Acme Cloud")
    reset_branding()
    yield
    reset_branding()


def test_the_page_route_serves_the_branded_html():
    response = respond({"routeKey": "GET /portal"}, NOW)

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>Acme Cloud</title>" in response["body"]


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("portal.js", "text/javascript"), ("portal.css", "text/css"), ("icon.svg", "image/svg+xml")],
)
def test_each_asset_is_served_with_its_type_and_cached_for_a_year(name, content_type):
    response = respond({"routeKey": "GET /portal/assets/{asset}", "pathParameters": {"asset": name}}, NOW)

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith(content_type)
    assert response["headers"]["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("name", ["index.html", "../handler.py", "branding.py", "", "PORTAL.JS"])
def test_any_other_asset_name_is_not_found(name):
    response = respond({"routeKey": "GET /portal/assets/{asset}", "pathParameters": {"asset": name}}, NOW)

    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"]["type"] == "not_found"


def test_the_session_route_tells_the_page_its_application_and_whether_it_may_change_anything():
    event = {
        "routeKey": "GET /portal/session",
        "requestContext": {
            "authorizer": {
                "lambda": {
                    "credential": "portal_session",
                    "application_id": "acme",
                    "read_only": "true",
                    "expires_at": str(int(NOW) + 600),
                }
            }
        },
    }

    response = respond(event, NOW)

    assert response["statusCode"] == 200
    assert response["headers"]["Cache-Control"] == "no-store"
    assert json.loads(response["body"]) == {
        "object": "portal_session",
        "application_id": "acme",
        "credential": "portal_session",
        "read_only": True,
        "expires_at": "2027-01-15T08:10:00.000Z",
    }


def test_an_application_key_opens_the_portal_without_an_expiry():
    response = session({"credential": "application", "application_id": "acme"}, NOW)

    assert json.loads(response["body"])["read_only"] is False
    assert json.loads(response["body"])["expires_at"] is None


def test_a_session_past_its_expiry_is_refused_to_the_second():
    response = session({"application_id": "acme", "expires_at": int(NOW)}, NOW)

    assert response["statusCode"] == 401
    assert json.loads(response["body"]) == {"error": {"type": "unauthorized", "message": SESSION_EXPIRED}}
    assert response["headers"]["WWW-Authenticate"] == "Bearer"


def test_the_authorizers_refusal_is_passed_on_as_401():
    response = session({"auth_error": "the portal session has expired; open a new one"}, NOW)

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["message"] == "the portal session has expired; open a new one"


def test_a_platform_key_is_not_a_portal_session():
    response = session({"credential": "platform", "key_id": "key_1"}, NOW)

    assert response["statusCode"] == 403
    assert json.loads(response["body"])["error"]["type"] == "forbidden"


@pytest.mark.parametrize("expires_at", ["soon", str(2**60), "nan", [1]])
def test_an_expiry_that_is_not_a_time_is_refused_not_an_error(expires_at):
    response = session({"application_id": "acme", "expires_at": expires_at}, NOW)

    assert response["statusCode"] == 401
