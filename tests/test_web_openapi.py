"""``GET /openapi.json`` is valid OpenAPI 3.1 and describes exactly the API's routes."""

from __future__ import annotations

import re
from typing import Any

from openapi_spec_validator import validate
from openapi_spec_validator.versions import consts as versions
from openapi_spec_validator.versions.shortcuts import get_spec_version

pytest_plugins = ["test_web_helpers"]  # the shared fixtures

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def test_document_is_valid_openapi_31(client: Any) -> None:
    document = client.get("/openapi.json").json
    assert get_spec_version(document) == versions.OPENAPIV31
    validate(document)


def test_document_matches_the_routes(app: Any, client: Any) -> None:
    document = client.get("/openapi.json").json
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes.setdefault(path, set()).update(set(rule.methods or ()) - IGNORED_METHODS)
    described = {path: {method.upper() for method in operations} for path, operations in document["paths"].items()}
    assert described == routes


def test_every_path_parameter_is_declared(client: Any) -> None:
    document = client.get("/openapi.json").json
    for path, operations in document["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for operation in operations.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, path
