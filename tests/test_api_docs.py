"""The API describes itself without a token: openapi.json, and a docs page made from it
that names every operation, parameter and schema of the document."""

from __future__ import annotations

from flask.testing import FlaskClient
from lxml import html

from feeds.web import csp

METHODS = ("get", "post", "put", "patch", "delete")


def test_openapi_json_needs_no_token(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["servers"] == [{"url": "http://localhost/api/v1"}]
    assert document["paths"]["/openapi.json"]["get"]["security"] == []


def test_docs_page_shows_every_operation_of_the_document(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert response.headers[csp.HEADER] == csp.PUBLIC
    page = html.fromstring(response.get_data(as_text=True))
    assert not page.xpath("//script")
    shown = 0
    for path, item in document["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            [section] = page.xpath(f"//section[@id='{op['operationId']}']")
            heading = " ".join(section.xpath("string(h2)").split())
            assert heading == f"{method.upper()} {path}"
            names = set(section.xpath(".//table[1]//td[1]/code/text()"))
            assert {p["name"] for p in op.get("parameters", [])} <= names
            codes = set(section.xpath(".//table[last()]//td[1]/text()"))
            assert codes == set(op["responses"])
            shown += 1
    assert shown >= 15
    for name in document["components"]["schemas"]:
        assert page.xpath(f"//section[@id='schema-{name}']/h3/text()") == [name]
    listing = page.xpath("//section[@id='listArticles']")[0].text_content()
    assert "updated_at" in listing  # `since` says which time it filters on
