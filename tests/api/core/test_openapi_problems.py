"""The OpenAPI document tells clients the truth about errors: problem+json, with its schema."""

from __future__ import annotations


def _problem_schema_ref(operation: dict, status: str) -> str:
    content = operation["responses"][status]["content"]
    assert list(content) == ["application/problem+json"], content
    return content["application/problem+json"]["schema"]["$ref"]


def test_core_routes_document_problem_json_errors(client):
    document = client.get("/openapi.json").json()
    job = document["paths"]["/api/v1/jobs/{job_id}"]["get"]
    assert _problem_schema_ref(job, "404") == "#/components/schemas/Problem"
    assert _problem_schema_ref(job, "422") == "#/components/schemas/ValidationProblem"
    assert _problem_schema_ref(job, "401") == "#/components/schemas/Problem"
    schemas = document["components"]["schemas"]
    assert {"title", "status"} <= set(schemas["Problem"]["required"])
    assert schemas["ValidationProblem"]["properties"]["errors"]["items"]["$ref"].endswith("ValidationIssue")


def test_the_documented_shape_is_the_one_sent(client, admin_headers):
    missing = client.get("/api/v1/jobs/nope", headers=admin_headers)
    assert missing.headers["content-type"] == "application/problem+json"
    assert {"type", "title", "status", "detail", "instance", "request_id"} <= set(missing.json())
    invalid = client.get("/api/v1/jobs", params={"limit": 0}, headers=admin_headers)
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["loc"] == ["query", "limit"]


def test_every_api_operation_documents_its_errors_as_problem_json(client):
    document = client.get("/openapi.json").json()
    predict = document["paths"]["/api/v1/toxicity/predict"]["post"]
    assert _problem_schema_ref(predict, "422") == "#/components/schemas/ValidationProblem"
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in operations.items():
            assert "application/problem+json" in operation["responses"]["401"]["content"], (method, path)
