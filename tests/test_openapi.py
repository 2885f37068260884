"""The OpenAPI document describes every /api/v1 route, and live responses match it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from feeds.service import Service
from tests.conftest import FakeClock, article_payload, make_app


class Api:
    """Calls the app and checks the request (when valid) and the response against the spec."""

    def __init__(self, client: FlaskClient, spec: OpenAPI, headers: dict[str, str]) -> None:
        self.client, self.spec, self.headers = client, spec, headers
        self.checked: set[tuple[str, int]] = set()

    def __call__(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        valid_request: bool = True,
        **kwargs: Any,
    ) -> Any:
        options: dict[str, Any] = {
            "path": "/api/v1" + path,
            "method": method,
            "headers": self.headers if headers is None else headers,
            **kwargs,
        }
        if json is not None:
            options["json"] = json
        request = Request(EnvironBuilder(**options).get_environ())
        response = self.client.open(EnvironBuilder(**options))
        openapi_request = WerkzeugOpenAPIRequest(request)
        if valid_request:
            self.spec.validate_request(openapi_request)
        self.spec.validate_response(openapi_request, WerkzeugOpenAPIResponse(response))
        self.checked.add((method, response.status_code))
        return response


@pytest.fixture
def spec(client: FlaskClient, admin_token: dict[str, str]) -> OpenAPI:
    response = client.get("/api/v1/openapi.json", headers=admin_token)
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    return OpenAPI.from_dict(document)  # also checks the document is valid OpenAPI 3.1


@pytest.fixture
def api(client: FlaskClient, spec: OpenAPI, admin_token: dict[str, str]) -> Api:
    return Api(client, spec, admin_token)


def test_every_api_route_is_documented(app: Flask, client: FlaskClient, admin_token: Any) -> None:
    document = client.get("/api/v1/openapi.json", headers=admin_token).get_json()
    documented = {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if (path, method) not in documented:
                missing.append(f"{method} {path}")
    assert missing == []


def test_article_responses_match(api: Api, service: Service, writer_token: Any) -> None:
    created = api("POST", "/articles", json=article_payload())
    assert created.status_code == 201
    article_id = created.get_json()["id"]
    api("GET", "/articles", query_string={"limit": "5", "status": "published"})
    api("GET", f"/articles/{article_id}")
    api("PUT", f"/articles/{article_id}", json=article_payload(title="Cranes, again"))
    api("PATCH", f"/articles/{article_id}", json={"summary": "Shorter."})
    assert api("DELETE", f"/articles/{article_id}").status_code == 200
    assert api("GET", "/articles/999999").status_code == 404
    assert api("POST", "/articles", json={"title": ""}, valid_request=False).status_code == 422
    assert api("GET", "/articles", headers={}, valid_request=False).status_code == 401
    anonymous = api("POST", "/articles", json=article_payload(), headers={}, valid_request=False)
    assert anonymous.status_code == 401
    assert (
        api("GET", "/articles", query_string={"limit": "0"}, valid_request=False).status_code == 422
    )


def test_tag_feed_responses_match(api: Api, writer_token: dict[str, str]) -> None:
    body = {"slug": "japan", "title": "Japan", "any_of": ["Japan"]}
    assert api("POST", "/tag-feeds", json=body).status_code == 201
    assert api("POST", "/tag-feeds", json=body).status_code == 409
    assert api("GET", "/tag-feeds").status_code == 200
    assert api("GET", "/tag-feeds/japan").status_code == 200
    assert (
        api("PUT", "/tag-feeds/japan", json={"title": "J", "any_of": ["Japan"]}).status_code == 200
    )
    assert api("PATCH", "/tag-feeds/japan", json={"limit": 5}).status_code == 200
    assert api("POST", "/tag-feeds/preview", json={"any_of": ["Japan"]}).status_code == 200
    impossible = {"any_of": ["a"], "none_of": ["a"]}
    assert api("POST", "/tag-feeds/preview", json=impossible).status_code == 422
    assert api("PATCH", "/tag-feeds/east-asia", json={"title": "x"}).status_code == 409
    assert api("POST", "/tag-feeds", json=body, headers=writer_token).status_code == 403
    bad = api("POST", "/tag-feeds", data="{", content_type="application/json", valid_request=False)
    assert bad.status_code == 400
    assert api("DELETE", "/tag-feeds/japan").status_code == 204
    assert api("GET", "/tag-feeds/japan").status_code == 404
    assert api("GET", "/openapi.json").status_code == 200
    assert {200, 201, 204, 400, 403, 404, 409, 422} <= {status for _m, status in api.checked}


def test_the_check_catches_a_response_that_breaks_the_contract(spec: OpenAPI) -> None:
    """Guards the guard: a TagFeed without its required fields must be rejected."""
    from werkzeug.wrappers import Response

    options = {"path": "/api/v1/tag-feeds/x", "headers": {"Authorization": "Bearer t"}}
    request = WerkzeugOpenAPIRequest(Request(EnvironBuilder(**options).get_environ()))
    wrong = Response('{"slug": "x"}', status=200, content_type="application/json")
    with pytest.raises(Exception, match=r"(?i)valid"):
        spec.validate_response(request, WerkzeugOpenAPIResponse(wrong))


def test_source_responses_match_when_sources_exist(app: Flask, api: Api) -> None:
    if not any(rule.rule == "/api/v1/sources" for rule in app.url_map.iter_rules()):
        pytest.skip("the sources API is not registered in this build")
    assert api("GET", "/sources").status_code == 200
    assert api("GET", "/sources/999999").status_code == 404


def test_request_bodies_are_the_declared_models(client: FlaskClient) -> None:
    """The document's bodies come from the models the service validates with: every
    field a model declares is documented, and nothing else is."""
    from feeds.service.article_input import ArticleInput, ImageInput
    from feeds.service.source_input import SourceInput
    from feeds.service.tagfeed_input import TagFeedInput

    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    hidden = {"id", "managed_by"}  # taken back from a tag feed read, without effect
    for model in (ArticleInput, ImageInput, SourceInput, TagFeedInput):
        documented = set(schemas[model.__name__]["properties"])
        assert documented == set(model.model_fields) - hidden, model.__name__
        assert schemas[model.__name__]["additionalProperties"] is False
    for patch, whole in (
        ("ArticlePatch", "ArticleInput"),
        ("SourcePatch", "SourceInput"),
        ("TagRuleInput", "TagFeedInput"),
    ):
        assert schemas[patch]["properties"] == schemas[whole]["properties"]
        assert "required" not in schemas[patch] and "required" in schemas[whole]


def test_the_documents_bounds_are_the_settings(database_url: str, clock: FakeClock) -> None:
    """The hashtag cap and the tag feed limit are settings: the document states the
    running values, and refuses what the API refuses at those values."""
    app = make_app(database_url, clock, max_hashtags_per_article=3, feed_limit_max=150)
    client = app.test_client()
    token = app.extensions["feeds"].tokens.create("t", ("articles:write", "admin"))
    headers = {"Authorization": f"Bearer {token}"}
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    tag_list = schemas["ArticleInput"]["properties"]["hashtags"]["oneOf"][0]
    assert tag_list["maxItems"] == 3
    assert schemas["TagFeedInput"]["properties"]["limit"]["maximum"] == 150
    assert "x-setting" not in json.dumps(document)
    cases = [
        ("ArticleInput", "/articles", article_payload(hashtags=["a", "b", "c", "d"]), "hashtags"),
        ("TagFeedInput", "/tag-feeds", {"slug": "x", "title": "X", "any_of": ["a"], "limit": 151},
         "limit"),
    ]  # fmt: skip
    for component, path, payload, field in cases:
        schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
        assert list(Draft202012Validator(schema).iter_errors(payload)), payload
        answer = client.post(f"/api/v1{path}", json=payload, headers=headers)
        assert answer.status_code == 422 and list(answer.get_json()["fields"]) == [field]
        smaller = {**payload, field: payload[field][:3] if field == "hashtags" else 150}
        assert not list(Draft202012Validator(schema).iter_errors(smaller)), smaller
        assert client.post(f"/api/v1{path}", json=smaller, headers=headers).status_code == 201


def test_the_entry_counts_answer_has_every_fate() -> None:
    """The refresh outcome and a source's state show a count per entry fate, in the
    order people read them, between `entries` and the refusals and warnings."""
    from feeds.models import ENTRY_FATES
    from feeds.service.source_input import CountsAnswer

    assert list(CountsAnswer.model_fields) == [
        "entries", *ENTRY_FATES, "refusals", "warnings"
    ]  # fmt: skip


def test_a_list_answer_holds_each_items_own_answer(
    client: FlaskClient, service: Service, writer_token: dict[str, str]
) -> None:
    """The article list is written by ArticleListAnswer in one call: each item is what the
    single article's answer (article_to_dict) says, and the page's count and next link
    are the declared fields."""
    from feeds.service.articles import article_to_dict

    ids = []
    for n in range(3):
        body = article_payload(title=f"Crane {n}", slug=f"crane-{n}")
        created = client.post("/api/v1/articles", json=body, headers=writer_token)
        assert created.status_code == 201, created.get_json()
        ids.append(created.get_json()["id"])
    page = client.get("/api/v1/articles?limit=2", headers=writer_token)
    assert page.content_type == "application/json"
    shown = page.get_json()
    assert list(shown) == ["items", "count", "next"]
    assert shown["count"] == service.articles.count()
    assert shown["next"].endswith("offset=2")
    assert shown["items"] == [
        article_to_dict(service.articles.get(item["id"])) for item in shown["items"]
    ]
    assert set(ids) & {item["id"] for item in shown["items"]}


def test_every_answer_in_the_document_is_a_declared_model(client: FlaskClient) -> None:
    """No answer shape is written by hand in the document: each schema is a model's
    (less the PATCH variants made from the input models, and the push state that one
    source's answer adds by reference)."""
    from feeds.service.payload import schemas
    from feeds.web.openapi import MODELS

    document = client.get("/api/v1/openapi.json").get_json()
    found = document["components"]["schemas"]
    declared = schemas(*MODELS)
    assert set(found) == set(declared) | {"ArticlePatch", "SourcePatch", "TagRuleInput"}
    source = dict(found["Source"], properties=dict(found["Source"]["properties"]))
    assert source["properties"].pop("push") == {"$ref": "#/components/schemas/Push"}
    assert source == declared["Source"]
    for name in set(declared) - {"Source", "ArticleInput", "TagFeedInput"}:
        assert found[name] == declared[name], name
    answers = {
        answer["content"]["application/json"]["schema"].get("$ref", "").rsplit("/", 1)[-1]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for answer in operation.get("responses", {}).values()
        if "application/json" in answer.get("content", {})
    }
    assert answers - {""} <= set(declared)
    assert answers - {""} >= {
        "Error", "ArticleList", "TagFeedList", "SourceList", "HubSubscriptionList", "Refreshed"
    }  # fmt: skip


def test_hub_subscription_push_and_error_answers() -> None:
    """The shapes the hub, a source's push state and every refusal write, field by field
    (what the hand-written dicts these models replaced wrote)."""
    from datetime import UTC, datetime

    from feeds.models import FeedFormat, FeedKey, FeedKind, HubSubscription, SourcePush
    from feeds.service.hub import HubSubscriptionListAnswer
    from feeds.service.payload import ErrorAnswer
    from feeds.service.push import push_to_dict

    when = datetime(2026, 1, 12, 8, 23, tzinfo=UTC)
    sub = HubSubscription(
        id=7, topic="https://x.example/feeds/all.atom", callback="https://cb.example/in",
        feed=FeedKey(FeedKind.ALL), format=FeedFormat.ATOM, active=True, secret="s3cret",
        lease_seconds=3600, created_at=when, verified_at=when, failures=2,
        last_status=500, last_error="HTTP 500", next_attempt_at=when,
    )  # fmt: skip
    shown = json.loads(HubSubscriptionListAnswer.json_bytes({"items": [sub], "count": 1}))
    assert shown == {
        "items": [
            {
                "id": 7, "topic": "https://x.example/feeds/all.atom",
                "callback": "https://cb.example/in", "state": "retrying", "signed": True,
                "lease_seconds": 3600, "verified_at": "2026-01-12T08:23:00+00:00",
                "expires_at": None, "pending": None, "verify_error": None,
                "last_delivery_at": None, "last_status": 500, "last_error": "HTTP 500",
                "failures": 2, "next_attempt_at": "2026-01-12T08:23:00+00:00",
            }
        ],
        "count": 1,
    }  # fmt: skip
    assert push_to_dict(None) == {"state": "none"}
    push = SourcePush(
        source_id=1, hub="https://hub.example/", topic="https://x.example/feed",
        token="t", secret="s", state="active", expires_at=when, pushes=3,
    )  # fmt: skip
    assert push_to_dict(push) == {
        "state": "active", "hub": "https://hub.example/", "topic": "https://x.example/feed",
        "expires_at": "2026-01-12T08:23:00+00:00", "verified_at": None, "error": None,
        "pushes": 3, "last_push_at": None, "refused": 0, "last_refused_at": None,
        "next_attempt_at": None,
    }  # fmt: skip
    refused = {"error": "invalid", "status": 422, "fields": {"title": "is required"}}
    assert json.loads(ErrorAnswer.json_bytes(refused)) == refused
    assert json.loads(ErrorAnswer.json_bytes({"error": "gone", "status": 404})) == {
        "error": "gone", "status": 404
    }  # fmt: skip
