"""The OpenAPI 3.1 document of /api/v1, built from the declarations when first asked.

Request bodies come from the pydantic models the service validates with
(ArticleInput, SourceInput, TagFeedInput; PATCH bodies are the same models with every
field optional), their bounds from the running settings, so the document and the
service cannot disagree. The operations are declared below, one line each, with the
answers they give; the answers' shapes come from the answer models that write them
(ArticleAnswer, ErrorAnswer, the list answers ...), which tests check against live
traffic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from feeds.service.article_filter import ArticleQuery
from feeds.service.article_input import ArticleAnswer, ArticleInput, ArticleListAnswer
from feeds.service.hub import HubSubscriptionListAnswer
from feeds.service.payload import ErrorAnswer, Payload, bounds, partial, resolve_settings
from feeds.service.payload import schemas as schemas_of
from feeds.service.push import PushAnswer
from feeds.service.source_input import RefreshedAnswer, SourceInput, SourceListAnswer
from feeds.service.tagfeed_input import TagFeedInput, TagFeedListAnswer

DESCRIPTION = (
    "The newsroom's article store and admin-defined tag feeds. Every route but this "
    "document needs a bearer token (`feeds tokens create`); writes need a scope: "
    "`articles:write` for articles, `admin` for tag feeds and sources. A human-readable "
    "version of this document is served at `/api/v1/docs`."
)
# What each error status means, unless an operation says it in its own words.
ERRORS = {
    400: "The body is not JSON",
    401: "No valid bearer token",
    403: "The token lacks the scope this route needs",
    404: "No such resource",
    409: "Conflicts with stored data, or the tag feed is managed by a config file "
    "(the message names it)",
    422: "Invalid input; `fields` names each problem",
}
SOURCE_ERRORS = {
    403: "The token lacks the admin scope",
    404: "No such source",
    409: "Conflicts with a stored source, or the source is managed by sources.toml",
}
WRITE = (400, 401, 403, 404, 409, 422)
CREATE = (400, 401, 403, 409, 422)
ID = {"type": "integer", "minimum": 0}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


@dataclass(frozen=True)
class Operation:
    """One route: its answer on success, the error statuses it may give, its body."""

    method: str
    path: str
    operation_id: str
    status: int
    answer: str  # what the success means
    schema: Any = None  # a schema name, a schema, or None for no JSON body
    errors: tuple[int, ...] = (401,)
    body: str | None = None  # the request body's schema name
    summary: str | None = None
    description: str | None = None
    parameters: tuple[dict[str, Any], ...] = ()
    public: bool = False
    wording: dict[int, str] = field(default_factory=dict)


def query_parameters(model: type[Payload]) -> tuple[dict[str, Any], ...]:
    """A model's fields as query parameters, described by its schema."""
    found = []
    for name, schema in schemas_of(model)[model.__name__]["properties"].items():
        if schema.get("default", "") in (None, ""):
            schema.pop("default", None)  # absent, not a value to send
        parameter = {"name": name, "in": "query", "schema": schema}
        if "description" in schema:
            parameter["description"] = schema.pop("description")
        found.append(parameter)
    return tuple(found)


LIST = query_parameters(ArticleQuery)
A = "/articles/{article_id}"
T = "/tag-feeds/{slug}"
S = "/sources/{source_id}"
OPERATIONS = (
    Operation("get", "/articles", "listArticles", 200, "A page of articles", "ArticleList",
              (401, 422), summary="List articles, newest first", parameters=LIST,
              description="Parameters other than these are refused with 422 naming them, so "
              "a misspelt filter is never silently ignored. `count` is the number of articles "
              "all the filters match; `next` is the URL of the following page, or null on "
              "the last one."),
    Operation("post", "/articles", "createArticle", 201, "Created", "Article", CREATE,
              "ArticleInput", "Create an article (scope articles:write)"),
    Operation("get", A, "getArticle", 200, "The article", "Article", (401, 404)),
    Operation("put", A, "replaceArticle", 200, "The article as stored", "Article", WRITE,
              "ArticleInput", "Replace an article (scope articles:write)"),
    Operation("patch", A, "patchArticle", 200, "The article as stored", "Article", WRITE,
              "ArticlePatch", "Change some fields (scope articles:write)"),
    Operation("delete", A, "withdrawArticle", 200, "The withdrawn article", "Article",
              (401, 403, 404, 422),
              summary="Withdraw an article (kept, status withdrawn; scope articles:write)"),
    Operation("get", "/tag-feeds", "listTagFeeds", 200, "Every tag feed", "TagFeedList"),
    Operation("post", "/tag-feeds", "createTagFeed", 201, "Created", "TagFeed", CREATE,
              "TagFeedInput", "Create a tag feed (scope admin)"),
    Operation("post", "/tag-feeds/preview", "previewTagFeed", 200, "The matching articles",
              "ArticleList", (400, 401, 422), "TagRuleInput",
              "The articles a rule would hold now, without saving it"),
    Operation("get", T, "getTagFeed", 200, "The tag feed", "TagFeed", (401, 404)),
    Operation("put", T, "replaceTagFeed", 200, "The tag feed as stored", "TagFeed", WRITE,
              "TagRuleInput", "Replace a tag feed; a new slug renames it (scope admin)"),
    Operation("patch", T, "patchTagFeed", 200, "The tag feed as stored", "TagFeed", WRITE,
              "TagRuleInput", "Change some fields (scope admin)"),
    Operation("delete", T, "deleteTagFeed", 204, "Deleted", None, (401, 403, 404, 409),
              summary="Delete a tag feed (scope admin)"),
    Operation("get", "/openapi.json", "openapi", 200, "OpenAPI 3.1 document",
              {"type": "object"}, (), summary="This document (no token needed)", public=True),
    Operation("get", "/docs", "docs", 200, "HTML page", "text/html", (),
              summary="This document as a page to read (no token needed)", public=True),
    Operation("get", "/sources", "listSources", 200, "Every source", "SourceList",
              summary="Outside sources with their fetch state"),
    Operation("post", "/sources", "createSource", 201, "Created", "Source", CREATE,
              "SourceInput", "Add an outside source (scope admin)", wording=SOURCE_ERRORS),
    Operation("get", S, "getSource", 200, "The source", "Source", (401, 404),
              wording=SOURCE_ERRORS),
    Operation("put", S, "replaceSource", 200, "The source as stored", "Source", WRITE,
              "SourceInput", "Replace a source's settings (scope admin)", wording=SOURCE_ERRORS),
    Operation("patch", S, "patchSource", 200, "The source as stored", "Source", WRITE,
              "SourcePatch", "Change some settings (scope admin)", wording=SOURCE_ERRORS),
    Operation("delete", S, "deleteSource", 204, "Removed", None, (401, 403, 404, 409),
              summary="Remove a source and its articles (scope admin)", wording=SOURCE_ERRORS),
    Operation("post", f"{S}/refresh", "refreshSource", 200, "The outcome and the source",
              "Refreshed", (401, 403, 404),
              summary="Fetch now (scope admin); 200 whatever the fetch's outcome",
              wording=SOURCE_ERRORS),
    Operation("get", "/websub/subscriptions", "listHubSubscriptions", 200,
              "Every subscription and pending intent", "HubSubscriptionList", (401, 403),
              summary="Subscribers of the built-in WebSub hub with their state (admin)",
              wording={403: SOURCE_ERRORS[403]}),
)  # fmt: skip
# What the document describes: the bodies taken and the answers given (each model
# brings the models it holds).
MODELS = (
    ArticleInput,
    SourceInput,
    TagFeedInput,
    ErrorAnswer,
    ArticleAnswer,
    ArticleListAnswer,
    TagFeedListAnswer,
    SourceListAnswer,
    RefreshedAnswer,
    PushAnswer,
    HubSubscriptionListAnswer,
)
PATH_PARAMETERS = {
    "article_id": ID,
    "slug": {"type": "string"},
    "source_id": ID,
}


def _answer(description: str, schema: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if schema == "text/html":
        answer["content"] = {"text/html": {"schema": {"type": "string"}}}
    elif schema is not None:
        shape = ref(schema) if isinstance(schema, str) else schema
        answer["content"] = {"application/json": {"schema": shape}}
    return answer


def paths() -> dict[str, Any]:
    """The `paths` object: every operation with its parameters, body and answers."""
    found: dict[str, Any] = {}
    for op in OPERATIONS:
        item = found.setdefault(op.path, {})
        names = re.findall(r"{(\w+)}", op.path)
        if names and "parameters" not in item:
            item["parameters"] = [
                {"name": name, "in": "path", "required": True, "schema": PATH_PARAMETERS[name]}
                for name in names
            ]
        entry: dict[str, Any] = {"operationId": op.operation_id}
        if op.summary:
            entry["summary"] = op.summary
        if op.description:
            entry["description"] = op.description
        if op.parameters:
            entry["parameters"] = list(op.parameters)
        if op.body:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(op.body)}},
            }
        responses = {str(op.status): _answer(op.answer, op.schema)}
        for code in op.errors:
            responses[str(code)] = _answer(op.wording.get(code, ERRORS[code]), "Error")
        entry["responses"] = responses
        if op.public:
            entry["security"] = []
        item[op.method] = entry
    return found


@cache
def _document(bound_values: tuple[tuple[str, int], ...]) -> dict[str, Any]:
    schemas = schemas_of(*MODELS)
    # One source's answer (GET /sources/{id}) adds its push state to the list's.
    schemas["Source"]["properties"]["push"] = ref("Push")
    # PATCH merges into what is stored, and preview fills in a slug and title: the same
    # shapes with every field optional.
    schemas["ArticlePatch"] = partial(schemas["ArticleInput"], "Any fields of ArticleInput")
    schemas["SourcePatch"] = partial(schemas["SourceInput"], "Any fields of SourceInput")
    schemas["TagRuleInput"] = partial(
        schemas["TagFeedInput"],
        "Like TagFeedInput with every field optional (PUT takes the slug from the path "
        "unless given).",
    )
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Feeds API", "version": "1", "description": DESCRIPTION},
        "security": [{"bearerAuth": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `feeds tokens create`",
                }
            },
            "schemas": schemas,
        },
    }
    resolved: dict[str, Any] = resolve_settings(document, dict(bound_values))
    return resolved


def document(settings: Any, server_url: str) -> dict[str, Any]:
    """The document for these settings, its server URL built on the public URL."""
    built = dict(_document(tuple(bounds(settings).items())))
    built["servers"] = [{"url": server_url}]
    return built
