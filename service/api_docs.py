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

_SWAGGER = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - API documentation</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{assets}/favicon.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/static/js/swagger-init.js"></script>
</body>
</html>
"""

_REDOC = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - API reference</title>
<link rel="icon" href="{assets}/favicon.png">
</head>
<body>
<redoc spec-url="{openapi}"></redoc>
<script src="{assets}/redoc.standalone.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """Serve `/docs`, `/redoc` and their assets (the app was made with docs_url=None,
    redoc_url=None)."""
    openapi = app.openapi_url or "/openapi.json"
    values = {"title": app.title, "assets": PREFIX, "openapi": openapi}
    swagger, redoc = _SWAGGER.format(**values), _REDOC.format(**values)
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
