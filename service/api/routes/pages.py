"""The survivor's pages (`/`, `/case`) and their static files, with strict browser headers.

Everything the pages need ships in the package (no CDN, fonts or analytics). The
Content-Security-Policy allows this origin only, so even injected markup could
not send anything elsewhere; case pages and case API answers are `no-store`.
"""

from functools import cache
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

router = APIRouter(include_in_schema=False)
STATIC = Path(str(files("service").joinpath("static")))

CSP = (
    "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self'; "
    "img-src 'self' blob: data:; media-src blob:; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
_BROWSER_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
# Case pages and case answers carry a case's state (and the key in the request):
# never kept by the browser or anything in between.
_NO_STORE_PREFIXES = ("/case", "/v1/cases")
# Pages and their files get the browser policy. (FastAPI's API explorer at /docs loads
# Swagger UI from a CDN; it is for developers, not survivors, and is left out.)
_PAGE_PREFIXES = ("/case", "/static/")


@cache
def _html(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")  # read once per process


def _page(name: str) -> HTMLResponse:
    return HTMLResponse(_html(name))


@router.get("/", response_class=HTMLResponse)
def create_page() -> HTMLResponse:
    return _page("index.html")


@router.get("/case", response_class=HTMLResponse)
def case_page() -> HTMLResponse:
    return _page("case.html")


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC)


class BrowserHeaders:
    """Security headers on pages and their files; `no-store` wherever a case is involved."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        browser = path == "/" or path.startswith(_PAGE_PREFIXES)
        no_store = path.startswith(_NO_STORE_PREFIXES)
        if not (browser or no_store):  # the platform API: JSON only, no page to protect
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in _BROWSER_HEADERS.items() if browser else ():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                if no_store:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
