"""Browser-test support: a branded local stack, receivers and an embedding site on 127.0.0.1, sessions.

The stack is `dovecote local` (mutx profile: a catalog, and the shortest retry table) started
from the synthesized template with the portal's deploy-time settings written into the
portal function's environment, as `cdk deploy -c portalName=… -c portalFrameAncestors=…`
would. Chromium is Debian's (/usr/bin/chromium), driven by Playwright.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import requests

from dovecote_local.templates import ensure_templates
from functions.core.models import utc_now
from functions.management.credentials import open_portal_session
from functions.portal.branding import (
    ENV_PORTAL_ACCENT_COLOR,
    ENV_PORTAL_FRAME_ANCESTORS,
    ENV_PORTAL_LOGO_URL,
    ENV_PORTAL_NAME,
)
from functions.store.api_keys import ApiKeyStore
from infra.handlers import PORTAL_HANDLER
from infra.template import resources_of_type
from tests.e2e.e2e_support import RunningStack, ready_local_stack
from tests.loopback_http import QuietHandler

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PROFILE = "mutx"
TIME_SCALE = 0.004
"""mutx waits 60 s, 600 s, 3600 s between attempts: 0.24 s, 2.4 s, 14.4 s here."""
BRAND_NAME = "Acme Cloud"
BRAND_ACCENT = "#0f766e"
BRAND_ACCENT_RGB = "rgb(15, 118, 110)"
LOGO_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="28" viewBox="0 0 64 28">'
    b'<rect width="64" height="28" rx="6" fill="#0f766e"/></svg>'
)


class _LoopbackServer:
    """`server` (on a free port of 127.0.0.1) served from a daemon thread until `close`."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


# --- receivers ------------------------------------------------------------------------------


@dataclass
class Hook:
    status: int = 200
    body: bytes = b"ok"
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)
    """Sent with every answer (e.g. `Retry-After`)."""
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


class _HookHandler(QuietHandler):
    server: _HookServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.read_body()
        hook = self.server.owner.hook(urlsplit(self.path).path)
        hook.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.reply(hook.status, hook.content_type, hook.body, hook.headers)


class _HookServer(ThreadingHTTPServer):
    def __init__(self, owner: Hooks) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _HookHandler)


class Hooks(_LoopbackServer):
    """Webhook receivers on 127.0.0.1 whose status and body a test can change while deliveries run."""

    def __init__(self) -> None:
        self._hooks: dict[str, Hook] = {}
        self._lock = threading.Lock()
        super().__init__(_HookServer(self))

    def add(self, **settings: Any) -> tuple[str, Hook]:
        path = f"/hooks/{uuid.uuid4().hex}"
        hook = Hook(**settings)
        with self._lock:
            self._hooks[path] = hook
        return f"{self.origin}{path}", hook

    def hook(self, path: str) -> Hook:
        with self._lock:
            return self._hooks.setdefault(path, Hook(status=404))


# --- the platform's site, which embeds the portal ---------------------------------------------

EMBED_PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>Platform</title></head>
<body><h1>Platform settings</h1>
<iframe id="portal" title="Webhooks" width="1000" height="700"></iframe></body></html>"""


class _SiteHandler(QuietHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/logo.svg"):
            body, content_type = LOGO_SVG, "image/svg+xml"
        elif self.path.startswith("/embed"):
            body, content_type = EMBED_PAGE, "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.reply(200, content_type, body)


class Site(_LoopbackServer):
    """A page on its own origin (127.0.0.1:<port>) with an empty iframe, and the logo."""

    def __init__(self) -> None:
        super().__init__(ThreadingHTTPServer(("127.0.0.1", 0), _SiteHandler))


# --- the stack ------------------------------------------------------------------------------


def branded_template(directory: Path, settings: dict[str, str]) -> Path:
    """The synthesized mutx template with `settings` as the portal function's environment."""
    template = json.loads(ensure_templates([PROFILE])[PROFILE].read_text(encoding="utf-8"))
    (portal,) = [
        function
        for function in resources_of_type(template, "AWS::Lambda::Function").values()
        if function["Properties"]["Handler"] == PORTAL_HANDLER
    ]
    portal["Properties"]["Environment"]["Variables"].update(settings)
    path = directory / "branded-template.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    return path


@contextmanager
def branded_stack(directory: Path, site: Site) -> Iterator[RunningStack]:
    """The local stack with the portal branded for `site`, ready; stopped on leaving (also when it never got ready)."""
    template = branded_template(
        directory,
        {
            ENV_PORTAL_NAME: BRAND_NAME,
            ENV_PORTAL_ACCENT_COLOR: BRAND_ACCENT,
            ENV_PORTAL_LOGO_URL: f"{site.origin}/logo.svg",
            ENV_PORTAL_FRAME_ANCESTORS: site.origin,
        },
    )
    with ready_local_stack(PROFILE, template, directory, time_scale=TIME_SCALE) as stack:
        yield stack


@dataclass
class Portal:
    """The running stack seen from the platform's side: its API and its portal sessions."""

    stack: RunningStack

    @property
    def api_url(self) -> str:
        return self.stack.api_url

    @property
    def application(self) -> str:
        """The application the stack's printed API key belongs to (`make local`'s demo application)."""
        return str(self.stack.info["application_id"])

    def open_session(self, *, read_only: bool = False) -> dict[str, Any]:
        """A portal session opened the way a platform does: POST /v1/applications/{app}/portal-sessions."""
        response = requests.post(
            f"{self.api_url}/v1/applications/{self.application}/portal-sessions",
            json={"ttl_seconds": 3600, "read_only": read_only},
            headers={"Authorization": f"Bearer {self.stack.info['platform_key']}"},
            timeout=15,
        )
        assert response.status_code == 201, response.text
        document: dict[str, Any] = response.json()
        return document

    def _store(self) -> ApiKeyStore:
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=self.stack.info["aws_endpoint_url"],
            region_name=self.stack.info["region"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        return ApiKeyStore(dynamodb, self.stack.info["table_name"])

    def session(self, *, read_only: bool = False, ttl_seconds: int = 3600, now: datetime | None = None) -> str:
        """A portal session token of the application, minted in the stack's table."""
        store = self._store()
        return open_portal_session(store, self.application, ttl_seconds=ttl_seconds, read_only=read_only, now=now)[1]

    def expired_session(self) -> str:
        return self.session(ttl_seconds=60, now=utc_now() - timedelta(hours=1))

    def url(self, token: str, extra: str = "") -> str:
        return f"{self.api_url}/portal#token={token}{extra}"

    def api(self, method: str, path: str, body: Any = None, token: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.stack.api_key}"}
        return requests.request(method, f"{self.api_url}{path}", json=body, headers=headers, timeout=15)

    def create_endpoint(self, url: str, events: list[str], **fields: Any) -> dict[str, Any]:
        response = self.api("POST", "/v1/webhooks", {"url": url, "events": events, **fields})
        assert response.status_code == 201, response.text
        document: dict[str, Any] = response.json()
        return document

    def publish(self, event_type: str, data: Any) -> dict[str, Any]:
        response = self.api("POST", "/v1/events", {"type": event_type, "data": data})
        assert response.status_code == 202, response.text
        document: dict[str, Any] = response.json()
        return document
