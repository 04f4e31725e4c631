"""The API's documentation pages, `/docs` (Swagger UI) and `/redoc` (ReDoc), working offline.

FastAPI's own pages load Swagger UI and ReDoc (and ReDoc's fonts) from CDNs:
without internet they are blank, and with it every reader of the docs is
announced to third parties. These pages use the copies shipped by the
`fastapi-offline` package (MIT; it ships Swagger UI, Apache-2.0, and ReDoc,
MIT, unmodified), served under `/docs-assets/`, and start Swagger UI from a
file of ours (`static/js/swagger-init.js`) instead of an inline script. Their
Content-Security-Policy allows this origin only (inline styles, which both
viewers set, and ReDoc's blob: worker aside), so the pages cannot load or send
anything elsewhere.
"""

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
PREFIX = "/docs-assets"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{assets}/favicon.png">
{head}
</head>
<body>
{body}
</body>
</html>
"""


def _page(title: str, head: str, body: str) -> str:
    return _PAGE.format(title=title, assets=PREFIX, head=head, body=body)


def install(app: FastAPI) -> None:
    """Serve `/docs`, `/redoc` and their assets (the app was made with docs_url=None,
    redoc_url=None)."""
    openapi = app.openapi_url or "/openapi.json"
    swagger = _page(
        f"{app.title} - API documentation",
        f'<link rel="stylesheet" href="{PREFIX}/swagger-ui.css">',
        f'<div id="swagger-ui" data-openapi-url="{openapi}"></div>\n'
        f'<script src="{PREFIX}/swagger-ui-bundle.js"></script>\n'
        '<script src="/static/js/swagger-init.js"></script>',
    )
    redoc = _page(
        f"{app.title} - API reference",
        "",
        f'<redoc spec-url="{openapi}"></redoc>\n'
        f'<script src="{PREFIX}/redoc.standalone.js"></script>',
    )
    headers = {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(swagger, headers=headers)

    @app.get("/redoc", include_in_schema=False)
    def redoc_page() -> HTMLResponse:
        return HTMLResponse(redoc, headers=headers)

    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="docs-assets")
