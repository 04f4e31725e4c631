"""`/docs` and `/redoc` in Chromium with the network cut off: both render the API, and
neither page asks any host but the service for anything (what a page tries elsewhere is
refused by its Content-Security-Policy before it becomes a request, or by the test's
cut-off network, which records it)."""

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route

from tests.e2e.server import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("docs")
    with Server(root / "data", root / "server.log") as running:
        yield running


def _offline_page(browser: Browser, server: Server) -> tuple[Page, list[str], list[str]]:
    """A page whose requests to any other host are refused (and recorded), with its
    console errors (a Content-Security-Policy refusal among them) recorded too."""
    page = browser.new_page()
    elsewhere: list[str] = []
    errors: list[str] = []
    local = urlsplit(server.url).netloc

    def only_local(route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == local:
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort("internetdisconnected")

    page.route("**/*", only_local)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, elsewhere, errors


def test_swagger_ui_lists_the_operations_offline(browser: Browser, server: Server) -> None:
    page, elsewhere, errors = _offline_page(browser, server)
    page.goto(f"{server.url}/docs")
    page.locator(".opblock-summary-path", has_text="/v1/match").first.wait_for(timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/v1/cases" in [p.strip() for p in paths]
    assert page.locator(".info .title").inner_text().startswith("hashbank")
    # Try an operation as a reader would: the request goes to this origin only.
    page.locator(".opblock-summary-path", has_text="/healthz").first.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    page.locator(".responses-table .response-col_status", has_text="200").first.wait_for()
    assert elsewhere == []
    assert errors == []
    page.close()


def test_redoc_renders_the_reference_offline(browser: Browser, server: Server) -> None:
    page, elsewhere, errors = _offline_page(browser, server)
    page.goto(f"{server.url}/redoc")
    page.get_by_role("heading", name="hashbank").first.wait_for(timeout=20_000)
    page.get_by_text("/v1/match").first.wait_for()
    assert elsewhere == []
    # ReDoc always shows Redocly's logo from its CDN; the page's policy refuses it
    # before any request is made (the image then hides itself). Nothing else fails.
    refused = "violates the following Content Security Policy directive"
    assert [e for e in errors if refused not in e] == []
    assert all("https://cdn.redoc.ly/" in e for e in errors)
    page.close()
