"""The shape of the OpenAPI document that clients depend on: every operation (path, method, operation
id, parameters, request and response schemas) and every component (its fields, their types, which are
required). Descriptions and examples are left out: rewording them is not a break."""

from typing import Any


def _type(schema: dict[str, Any]) -> Any:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    for combo in ("allOf", "oneOf", "anyOf"):
        if combo in schema:
            return {combo: [_type(s) for s in schema[combo]]}
    kind: dict[str, Any] = {k: schema[k] for k in ("type", "format", "enum", "nullable", "readOnly") if k in schema}
    if "items" in schema:
        kind["items"] = _type(schema["items"])
    if "properties" in schema:
        kind["properties"] = {name: _type(s) for name, s in sorted(schema["properties"].items())}
    if isinstance(schema.get("additionalProperties"), dict):
        kind["additionalProperties"] = _type(schema["additionalProperties"])
    return kind


def _content(content: dict[str, Any] | None) -> dict[str, Any]:
    return {media: _type(body.get("schema", {})) for media, body in sorted((content or {}).items())}


def shape(document: dict[str, Any]) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for path, item in document.get("paths", {}).items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            operations[f"{method.upper()} {path}"] = {
                "operationId": op.get("operationId"),
                "parameters": sorted(
                    f"{p['in']}:{p['name']}:{_type(p.get('schema', {}))}{':required' if p.get('required') else ''}"
                    for p in op.get("parameters", [])
                ),
                "request": _content(op.get("requestBody", {}).get("content")),
                "responses": {code: _content(r.get("content")) for code, r in sorted(op.get("responses", {}).items())},
            }
    components = {
        name: {**_type(schema), "required": sorted(schema.get("required", []))}
        for name, schema in document.get("components", {}).get("schemas", {}).items()
    }
    return {"operations": operations, "components": components}


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """One line per operation or component that appeared, disappeared or changed."""
    lines = []
    for section in ("operations", "components"):
        old, new = before[section], after[section]
        lines += [f"{section} removed: {k}" for k in sorted(old.keys() - new.keys())]
        lines += [f"{section} added: {k}" for k in sorted(new.keys() - old.keys())]
        lines += [f"{section} changed: {k}" for k in sorted(old.keys() & new.keys()) if old[k] != new[k]]
    return lines
