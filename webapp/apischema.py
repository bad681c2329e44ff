"""The API's OpenAPI schema (drf-spectacular): every operation documents the error answers it can give, with
the bodies that `webapp.errors.api_exception_handler` (and DRF behind it) really writes.

One rule for every view instead of a decorator on each (settings: REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]):

* 400 when the operation takes a body or any parameter: a serializer, filter or `ApplicationError` refuses it;
* 401 when the view authenticates (`authentication_classes`): no token, a wrong or an expired one;
* 403 when a permission class may refuse a signed-in user for this method (`IsStaff`, `IsReviewer`, `StaffWrites`
  on writes), or the method is unsafe and cookie sessions are accepted (Django's CSRF check);
* 404 when the path has a parameter (no such row, or not one you may see) or the list is paginated (a page past
  the end);
* 422 when the operation takes an `Idempotency-Key` header (the key was used with another body);
* 429 when the view has throttles.

Statuses that only some services return (409 `Conflict`, a 404 for a row named in the body or query) are
declared on the view with `extend_schema(responses={409: OpenApiResponse(description=...)})`; any 4xx declared
without a body gets the error body here, so a view never spells it out.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import permissions
from rest_framework.authentication import SessionAuthentication

from webapp.permissions import StaffWrites

ERROR = "Error"
VALIDATION_ERROR = "ValidationError"

# {"detail": "..."}: what went wrong and what to do. Some answers add fields: `field` (the header at fault), the
# pair counts of a training selection that leaves no pairs, the CSRF check's `advice`.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error: `detail` says what went wrong; some errors add more fields.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "additionalProperties": {},
}
# A 400 is an Error, or the fields of the body (or query) that are invalid, each with its messages (a nested object
# for a nested field; `non_field_errors` for the body as a whole), or a list of messages.
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "description": "An Error, or for invalid fields each field's name with a list of messages (an object for a "
    "nested field; `non_field_errors` for the body as a whole), or a list of messages.",
    "anyOf": [
        {"$ref": f"#/components/schemas/{ERROR}"},
        {
            "type": "object",
            "additionalProperties": {"anyOf": [{"type": "array"}, {"type": "object"}]},
        },
        {"type": "array", "items": {"type": "string"}},
    ],
}

DESCRIPTIONS = {
    400: "The request is invalid: the answer says which field or value, and why.",
    401: "No API token, or a wrong or expired one (also: signed out).",
    403: "Your role may not do this, or a cookie session's CSRF check failed.",
    404: "No such object, or not one you may see; or a page past the end of the list.",
    409: "The request conflicts with the object's current state.",
    422: "This Idempotency-Key was already used with a different request body.",
    429: "Too many requests: try again after Retry-After seconds.",
}

# Permission classes that never refuse a signed-in user (the anonymous one gets a 401).
_NEVER_REFUSE = (permissions.AllowAny, permissions.IsAuthenticated)


def _may_refuse(permission: type, method: str) -> bool:
    if issubclass(permission, _NEVER_REFUSE):
        return False
    if issubclass(permission, StaffWrites):
        return method not in permissions.SAFE_METHODS
    return True


class ErrorDocumentingAutoSchema(AutoSchema):
    def map_parsers(self) -> list[Any]:
        """JSON, where a view takes it. DRF's form parsers stay on (old scripts keep working), but the schema's body
        types do not describe form data: a form has no null, number or nested value, so `"campaign": null` or a
        chat-message list means something else there; the browser and every script here send JSON."""
        media_types = super().map_parsers()
        return ["application/json"] if "application/json" in media_types else media_types

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self.error_statuses(operation):
            responses.setdefault(str(code), {"description": DESCRIPTIONS[code]})
        for code, response in responses.items():
            if code.startswith("4") and "content" not in response:
                response["content"] = {"application/json": {"schema": self._error_ref(code == "400")}}
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_statuses(self, operation: dict[str, Any]) -> list[int]:
        view, method = self.view, self.method
        parameters = operation.get("parameters", [])
        codes = []
        if parameters or "requestBody" in operation:
            codes.append(400)
        authenticators = view.get_authenticators()
        if authenticators:
            codes.append(401)
        cookie_session = any(isinstance(a, SessionAuthentication) for a in authenticators)
        if any(_may_refuse(type(p), method) for p in view.get_permissions()) or (
            cookie_session and method not in permissions.SAFE_METHODS
        ):
            codes.append(403)
        if any(p["in"] == "path" for p in parameters) or any(p["name"] == "page" for p in parameters):
            codes.append(404)
        if any(p["in"] == "header" and p["name"].lower() == "idempotency-key" for p in parameters):
            codes.append(422)
        if view.get_throttles():
            codes.append(429)
        return codes

    def _error_ref(self, validation: bool) -> dict[str, str]:
        error = ResolvedComponent(name=ERROR, type=ResolvedComponent.SCHEMA, object=ERROR, schema=ERROR_SCHEMA)
        self.registry.register_on_missing(error)
        if not validation:
            return error.ref
        component = ResolvedComponent(
            name=VALIDATION_ERROR,
            type=ResolvedComponent.SCHEMA,
            object=VALIDATION_ERROR,
            schema=VALIDATION_ERROR_SCHEMA,
        )
        self.registry.register_on_missing(component)
        return component.ref
