"""`/docs` and `/redoc` load only this origin's files, under a policy that forbids others."""

import re

from fastapi.testclient import TestClient

from service.api import docs as api_docs


def _local_urls(html: str) -> list[str]:
    urls = re.findall(r'(?:src|href|spec-url|data-openapi-url)="([^"]+)"', html)
    assert urls
    for url in urls:
        assert url.startswith("/"), f"{url} is not on this origin"
        assert not url.startswith("//"), f"{url} is another host"
    return urls


def test_both_pages_reference_only_local_files_that_are_served(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "script-src 'self';" in csp  # no inline script, no other host
        assert "connect-src 'self'" in csp
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "<script>" not in response.text  # only <script src=...>
        for url in _local_urls(response.text):
            asset = client.get(url)
            assert asset.status_code == 200, url
            if url.endswith(".js"):
                assert "javascript" in asset.headers["content-type"], url
            elif url.endswith(".css"):
                assert asset.headers["content-type"].startswith("text/css"), url
            elif url == "/openapi.json":
                assert asset.json()["info"]["title"] == "hashbank"


def test_swagger_ui_never_calls_the_public_validator(client: TestClient) -> None:
    init = client.get("/static/js/swagger-init.js")
    assert init.status_code == 200
    assert "validatorUrl: null" in init.text


def test_the_viewers_are_the_packaged_ones(client: TestClient) -> None:
    swagger = client.get(f"{api_docs.PREFIX}/swagger-ui-bundle.js")
    assert b"SwaggerUIBundle" in swagger.content
    assert len(swagger.content) > 500_000
    redoc = client.get(f"{api_docs.PREFIX}/redoc.standalone.js")
    assert b"Redoc" in redoc.content
    assert client.get(f"{api_docs.PREFIX}/../api_docs.py").status_code == 404
