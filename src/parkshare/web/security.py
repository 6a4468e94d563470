"""Security headers on every response; a strict Content-Security-Policy on the web pages.

The pages load only what this app serves (no inline script or style), so the policy allows
'self' and, when a production tile layer is configured, images from that one origin."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# The API documentation page (Swagger UI, served locally by fastapi-offline) runs an inline
# script, so it keeps its own policy-free page; everything else gets the strict policy.
NO_CSP_PREFIXES = ("/docs", "/redoc", "/static-offline-docs")


def content_security_policy(tile_url: str | None) -> str:
    images = "'self' data:"
    if tile_url:
        parts = urlsplit(tile_url.replace("{", "").replace("}", ""))
        images += f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'self'; "
        f"img-src {images}; "
        "style-src 'self'; script-src 'self'; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, tile_url: str | None, hsts: bool) -> None:
        self.app = app
        self.csp = content_security_policy(tile_url)
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
                if not path.startswith(NO_CSP_PREFIXES):
                    headers.setdefault("Content-Security-Policy", self.csp)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Cache-Control", "no-store")  # pages may be personal
            await send(message)

        await self.app(scope, receive, with_headers)
