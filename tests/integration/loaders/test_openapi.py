"""OpenAPI 3.x / Swagger 2.0 loader on the real specs in shared/data/raw/openapi."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolflow.loaders import LoadError, load_tools

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
OPENAPI = DATA / "raw" / "openapi"
FIXTURES = Path(__file__).resolve().parents[2] / "support" / "fixtures" / "loaders"


def by_name(tools: list, name: str):
    return next(t for t in tools if t.name == name)


@pytest.mark.parametrize(
    ("rel", "operations"),
    [
        # counts from the table in raw/openapi/README.md
        ("oai_examples/petstore.yaml", 3),
        ("oai_examples/petstore-expanded.yaml", 4),
        ("apideck/crm.yml", 53),
        ("apideck/hris.yml", 25),
        ("slack/slack_web_openapi_v2.json", 174),
        ("apis_guru_unofficial/trello.com/1.0/swagger.yaml", 324),
        ("apis_guru_unofficial/mandrillapp.com/1.0/swagger.yaml", 90),
        ("apis_guru_unofficial/stackexchange.com/2.0/openapi.yaml", 124),
        ("twilio/twilio_api_v2010.json", 197),
        ("nytimes/most_popular_api/most_popular_api_v2.json", 3),
        ("nytimes/most_popular_api/most_popular_api_v2.yaml", 4),
        # path items with no operations at all
        ("twilio/twilio_iam_scim.json", 0),
        ("twilio/twilio_verify_v3.json", 0),
    ],
)
def test_operation_counts(rel: str, operations: int) -> None:
    result = load_tools(OPENAPI / rel)
    assert len(result.tools) == operations
    assert result.skipped == [] and result.files == 1
    assert len({t.id for t in result.tools}) == operations


def test_openai_spec_loads_with_all_operations() -> None:
    result = load_tools(OPENAPI / "openai" / "openapi.yaml")
    assert len(result.tools) == 288
    chat = by_name(result.tools, "createChatCompletion")
    assert chat.category == "OpenAI API"
    assert chat.id == "openapi:OpenAI API/createChatCompletion"
    assert set(chat.parameters["required"]) == {"model", "messages"}
    assert chat.parameters["properties"]["messages"]["type"] == "array"
    assert chat.parameters["properties"]["messages"]["x-in"] == "body"
    assert chat.returns is not None and "choices" in chat.returns["properties"]
    # every $ref is inlined; recursive ones are cut to an object that names the ref
    dumped = json.dumps([t.model_dump() for t in result.tools])
    assert '"$ref"' not in dumped
    assert '"x-ref": "#/components/schemas/' in dumped


def test_petstore_parameters_and_returns() -> None:
    tools = load_tools(OPENAPI / "oai_examples" / "petstore.yaml").tools
    list_pets = by_name(tools, "listPets")
    limit = list_pets.parameters["properties"]["limit"]
    assert limit["type"] == "integer" and limit["x-in"] == "query"
    assert list_pets.required == []
    assert list_pets.returns["type"] == "array"
    assert list_pets.returns["items"]["required"] == ["id", "name"]
    assert by_name(tools, "showPetById").required == ["petId"]
    create = by_name(tools, "createPets")
    assert set(create.parameters["properties"]) == {"id", "name", "tag"}  # object body flattened
    assert create.required == ["id", "name"]
    assert create.returns is None  # 201 with no content
    assert create.extra["method"] == "POST" and create.extra["path"] == "/pets"


def test_parameter_refs_from_components() -> None:
    tools = load_tools(OPENAPI / "apideck" / "crm.yml").tools
    for tool in tools:
        assert all("$ref" not in json.dumps(p) for p in tool.parameters["properties"].values())
    # x-apideck-consumer-id is declared once under components/parameters and $ref'd by operations
    with_consumer = [t for t in tools if "x-apideck-consumer-id" in t.parameters["properties"]]
    assert len(with_consumer) > 40
    prop = with_consumer[0].parameters["properties"]["x-apideck-consumer-id"]
    assert prop["x-in"] == "header" and prop["type"] == "string"


def test_swagger2_form_data_and_body() -> None:
    slack = load_tools(OPENAPI / "slack" / "slack_web_openapi_v2.json").tools
    post = by_name(slack, "chat_postMessage")
    assert post.parameters["properties"]["channel"]["x-in"] == "formData"
    assert "channel" in post.required
    assert post.returns is not None and post.category == "Slack Web API"
    mandrill = load_tools(OPENAPI / "apis_guru_unofficial" / "mandrillapp.com" / "1.0" / "swagger.yaml").tools
    export = by_name(mandrill, "post_exports_activity_json")  # no operationId: method + path
    assert export.original_name == "post /exports/activity.json"
    assert export.parameters["properties"]["senders"] == {
        "items": {"type": "string"},
        "type": "array",
        "x-in": "body",
    }


def test_duplicate_operation_ids_are_reported() -> None:
    jira = OPENAPI / "apis_guru_unofficial" / "atlassian.com" / "jira" / "7.6.1" / "jira.json"
    result = load_tools(jira)  # 46 operationIds name two different operations: both kept, renamed
    assert len(result.tools) == 324  # operations in the README table
    assert len(result.renamed) == 46 and {r.reason for r in result.renamed} == {"definition"}
    assert len({t.name for t in result.tools}) == 324
    with pytest.raises(LoadError, match=r"jira\.json, at /paths/.*duplicate tool id 'openapi:JIRA/"):
        load_tools(jira, strict=True)
    strict = load_tools(jira, strict=True, skip_invalid=True)
    assert len(strict.tools) + len(strict.skipped) == 324
    assert len(strict.skipped) == 46


@pytest.mark.parametrize(
    ("json_rel", "yaml_rel", "count"),
    [
        (
            "apis_guru_unofficial/twitter.com/1.1/twitter.json",
            "apis_guru_unofficial/twitter.com/1.1/swagger.yaml",
            83,
        ),
        ("twilio/twilio_lookups_v2.json", "twilio/twilio_lookups_v2.yaml", 10),
    ],
)
def test_json_and_yaml_serializations_load_the_same(json_rel: str, yaml_rel: str, count: int) -> None:
    from_json = [t.model_dump() for t in load_tools(OPENAPI / json_rel).tools]
    from_yaml = [t.model_dump() for t in load_tools(OPENAPI / yaml_rel).tools]
    assert len(from_json) == count
    assert from_json == from_yaml


def test_yaml_dates_and_codes_stay_json() -> None:
    tools = load_tools(OPENAPI / "apis_guru_unofficial" / "twilio.com" / "2010-04-01" / "swagger.yaml").tools
    json.dumps([t.model_dump() for t in tools])  # no datetime.date sneaking in from YAML
    assert len(tools) == 79  # 116 operations, 37 of them .json/.xml twins with the same operationId merged


def test_recursive_schema_is_cut() -> None:
    tools = load_tools(FIXTURES / "recursive.yaml").tools
    get_node = by_name(tools, "getNode")
    children = get_node.returns["properties"]["children"]
    assert children["items"] == {"type": "object", "x-ref": "#/components/schemas/Node"}
    put_node = by_name(tools, "putNode")
    # path-level parameter via $ref, body flattened without the readOnly id
    assert put_node.parameters["properties"]["id"]["x-in"] == "path"
    assert put_node.required == ["id", "name"]
