"""The schema documents the error answers (webapp/apischema.py), and the answers the app really gives match the
documented bodies. Through the HTTP client: the schema as /api/schema/ serves it, the errors as the API gives them.
(The whole API is fuzzed against the schema by `make fuzz`, scripts/fuzz_api.py, outside the test suite.)"""

import jsonschema
import pytest

from tests.feedback.factories import campaign_with_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api) -> dict:
    reply = api(None).get("/api/schema/", {"format": "json"})
    assert reply.status_code == 200
    return reply.json()


def body_schema(schema: dict, operation: dict, status: str) -> dict:
    """The documented JSON body of one answer, with the components its references need."""
    media = operation["responses"][status]["content"]
    assert list(media) == ["application/json"]
    return {**media["application/json"]["schema"], "components": schema["components"]}


def test_a_staff_only_write_documents_400_401_403_with_the_error_bodies(schema):
    create = schema["paths"]["/api/v1/tasks/"]["post"]
    assert {"201", "400", "401", "403"} <= set(create["responses"])
    refs = {code: create["responses"][code]["content"]["application/json"]["schema"] for code in ("400", "401", "403")}
    assert refs == {
        "400": {"$ref": "#/components/schemas/ValidationError"},
        "401": {"$ref": "#/components/schemas/Error"},
        "403": {"$ref": "#/components/schemas/Error"},
    }
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]
    # Reads are open to every signed-in user: no 403 there; an id in the path can be a 404.
    assert "403" not in schema["paths"]["/api/v1/tasks/"]["get"]["responses"]
    assert {"401", "404"} <= set(schema["paths"]["/api/v1/tasks/{id}/"]["get"]["responses"])
    # The token endpoint authenticates no one (the credentials are in the body), so it has no 401.
    assert "401" not in schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]


def test_every_operation_documents_its_errors_and_json_bodies(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            if path != "/api/v1/auth/token/":
                assert "401" in codes, (method, path)
            if operation.get("parameters") or "requestBody" in operation:
                assert "400" in codes, (method, path)
            for code in codes - {"200", "201", "202", "204"}:
                assert "application/json" in operation["responses"][code]["content"], (method, code, path)
            if "requestBody" in operation and path != "/api/v1/transfers/import/":
                assert list(operation["requestBody"]["content"]) == ["application/json"], (method, path)


def test_the_real_error_answers_match_the_documented_bodies(api, schema, staff, annotator):
    campaign, _ = campaign_with_tasks(n_tasks=1)
    create = schema["paths"]["/api/v1/tasks/"]["post"]
    answers = {
        "401": api(None).post("/api/v1/tasks/", {}, format="json"),
        "403": api(annotator).post("/api/v1/tasks/", {"campaign": campaign.pk}, format="json"),
        "400": api(staff).post("/api/v1/tasks/", {"campaign": "one", "responses": [1]}, format="json"),
    }
    for status, reply in answers.items():
        assert str(reply.status_code) == status, reply.content
        jsonschema.validate(reply.json(), body_schema(schema, create, status))
    assert set(answers["400"].json()) == {"campaign", "prompt", "responses"}  # each invalid field with its messages
    # A service's refusal is an Error (`detail`), a 400 too.
    no_prompt = api(staff).post("/api/v1/tasks/", {"campaign": campaign.pk, "prompt": 10**9, "responses": [1, 2]})
    assert no_prompt.status_code == 400 and "detail" in no_prompt.json()
    jsonschema.validate(no_prompt.json(), body_schema(schema, create, "400"))


def test_a_wrong_token_is_a_documented_401(api, schema):
    client = api(None)
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    reply = client.get("/api/v1/tasks/")
    assert reply.status_code == 401 and reply.headers["WWW-Authenticate"] == "Token"
    jsonschema.validate(reply.json(), body_schema(schema, schema["paths"]["/api/v1/tasks/"]["get"], "401"))


def test_an_api_url_no_route_takes_is_a_json_404(api, staff):
    reply = api(staff).get("/api/v1/tasks/1.5/")
    assert reply.status_code == 404 and reply.json() == {"detail": "Not found."}
    assert "text/html" in api(staff).get("/no-such-page/").headers["Content-Type"]


def test_json_values_must_have_their_fields_type_form_data_is_still_parsed(api, annotator, staff):
    campaign, _ = campaign_with_tasks(n_tasks=1)
    strings_for_numbers = api(annotator).post("/api/v1/tasks/next/", {"campaign": str(campaign.pk)}, format="json")
    assert strings_for_numbers.status_code == 400
    assert strings_for_numbers.json() == {"campaign": ["A valid integer is required."]}
    number_for_text = api(staff).post("/api/v1/languages/", {"code": 7}, format="json")
    assert number_for_text.json() == {"code": ["Not a valid string."]}
    # Form bodies are not documented any more, but old scripts that send them keep working.
    form = api(annotator).post("/api/v1/tasks/next/", {"campaign": str(campaign.pk)}, format="multipart")
    assert form.status_code == 200 and form.json()["task"]["campaign"] == campaign.pk


def test_filters_refuse_what_they_cannot_read(api, annotator):
    assert api(annotator).get("/api/v1/variants/", {"enrolled_in_arena": "maybe"}).status_code == 400
    assert api(annotator).get("/api/v1/variants/", {"enrolled_in_arena": "true"}).status_code == 200
    assert api(annotator).get("/api/v1/tasks/", {"campaign": "1.5"}).status_code == 400
    assert api(annotator).get("/api/v1/prompts/", {"page": ""}).status_code == 404
    assert api(annotator).get("/api/v1/tasks/", {"cursor": "not-a-cursor"}).status_code == 400
