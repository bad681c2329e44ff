"""REST API of the feedback store (/api/v1/), one module per resource (urls.py maps the views).

Each view validates its input (a nested `InputSerializer`), calls one service (webapp.feedback.services) or selector
(webapp.feedback.selectors), and serializes the result. Serializers that several views return (`TaskOutput`, ...)
are module-level and keep the names the OpenAPI components carry; nested input serializers name their component
explicitly (`extend_schema_serializer(component_name=...)`), and every operation keeps its operation id."""
