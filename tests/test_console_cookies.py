"""When the console's cookies are Secure: over HTTPS, or behind a proxy when the product's public
address is https."""

from __future__ import annotations

from types import SimpleNamespace

from starlette.requests import Request

from api.console.security import is_secure


def request(scheme: str, public_url: str) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(public_url=public_url)))
    scope = {
        "type": "http",
        "scheme": scheme,
        "method": "GET",
        "path": "/console/login",
        "headers": [(b"host", b"recupero.example.it")],
        "query_string": b"",
        "server": ("recupero.example.it", 443),
        "app": app,
    }
    return Request(scope)


def test_secure_over_https_or_with_an_https_public_address() -> None:
    assert is_secure(request("https", ""))
    assert is_secure(request("http", "https://recupero.example.it"))
    assert not is_secure(request("http", ""))
    assert not is_secure(request("http", "http://127.0.0.1:8000"))
