"""Browser test fixtures: a local static server and Debian's Chromium driven by Playwright.

The server binds 127.0.0.1 only and serves

- `/static/`  the web page's files (service/static), as the app will mount them;
- `/ref/`     the PDQ reference images (../shared/pdq-reference);
- `/vpdq/`    the vPDQ reference videos (../shared/vpdq-reference/videos);
- `/harness/` this folder (harness.html drives the hashing worker);
- `/gen/`     images the tests generate.

Playwright's own browser download is not used: the tests launch the system
Chromium (`scripts/test` installs Debian's `chromium` when it is missing).
"""

import os
import posixpath
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

from tests.conftest import PDQ_REFERENCE, REPO, VPDQ_REFERENCE

CHROMIUM = os.environ.get("HASHBANK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STATIC = REPO / "service" / "static"
HARNESS = Path(__file__).resolve().parent


@dataclass(frozen=True)
class StaticServer:
    base_url: str
    generated: Path  # served at /gen/

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def _handler(mounts: dict[str, Path]) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def translate_path(self, path: str) -> str:
            path = posixpath.normpath(unquote(urlsplit(path).path))
            for prefix, root in mounts.items():
                if path.startswith(prefix):
                    relative = path.removeprefix(prefix)
                    if ".." not in relative.split("/"):
                        return str(root / relative)
            return str(HARNESS / "no-such-file")

        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output clean

    return Handler


@pytest.fixture(scope="session")
def static_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    generated = tmp_path_factory.mktemp("generated-images")
    mounts = {
        "/static/": STATIC,
        "/ref/": PDQ_REFERENCE,
        "/vpdq/": VPDQ_REFERENCE / "videos",
        "/harness/": HARNESS,
        "/gen/": generated,
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(mounts))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="static-server", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield StaticServer(f"http://{host!s}:{port}", generated)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# Module scope: Playwright's sync API allows one running instance per thread, and
# other test modules here start their own.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run scripts/test (it installs Debian's "
            "chromium) or `apt-get install chromium`, or set HASHBANK_CHROMIUM"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_context(browser: Browser, server: StaticServer) -> BrowserContext:
    """A fresh context that can reach only the local test server."""
    context = browser.new_context()

    def only_local(route: Route) -> None:
        if route.request.url.startswith(server.base_url + "/"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_local)
    return context


def open_harness(context: BrowserContext, server: StaticServer) -> Page:
    page = context.new_page()
    page.goto(server.url("/harness/harness.html"))
    page.wait_for_function("window.harnessReady === true")
    return page


@pytest.fixture(scope="module")
def harness(browser: Browser, static_server: StaticServer) -> Iterator[Page]:
    """The harness page with its hashing worker, shared by a module's tests."""
    context = new_context(browser, static_server)
    try:
        yield open_harness(context, static_server)
    finally:
        context.close()
