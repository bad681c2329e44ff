"""REST API of webhooks (staff only): endpoints (CRUD, secret rotation, a test event), each endpoint's
delivery log with its attempts, and redelivery. Views validate, call one service, serialise."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response as Reply
from rest_framework.views import APIView

from webapp.apifields import JSONInput
from webapp.feedback.api.common import validated
from webapp.permissions import IsStaff
from webapp.webhooks import selectors, services
from webapp.webhooks.events import EVENT_TYPES, SUBSCRIBABLE_TYPES
from webapp.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Endpoint


class WebhookEndpointOutput(serializers.ModelSerializer):
    secret = serializers.CharField(help_text="whsec_ + base64: give it to the receiver to verify signatures")
    event_types = serializers.ListField(child=serializers.CharField(), help_text="Empty: every event type")

    class Meta:
        model = Endpoint
        fields = [
            "id",
            "url",
            "description",
            "secret",
            "event_types",
            "is_active",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]


@extend_schema_serializer(component_name="WebhookEndpointInput")
class EndpointInput(JSONInput):
    url = serializers.URLField(max_length=500, help_text="http(s) URL the events are POSTed to")
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_TYPES),
        required=False,
        default=list,
        max_length=len(EVENT_TYPES),
        help_text="The event types it receives; empty: every one",
    )
    is_active = serializers.BooleanField(required=False, default=True)

    def validate_url(self, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError(_("The URL must start with http:// or https://"))
        return value


class WebhookAttemptOutput(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["started_at", "duration_ms", "status_code", "error", "response_body"]


class WebhookDeliveryOutput(serializers.ModelSerializer):
    endpoint = serializers.IntegerField(source="endpoint_id")
    payload = serializers.JSONField(help_text="{type, timestamp, data}, as sent")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "endpoint",
            "event_id",
            "event_type",
            "payload",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "created_at",
            "updated_at",
            "delivered_at",
        ]


class WebhookDeliveryDetailOutput(WebhookDeliveryOutput):
    attempt_log = WebhookAttemptOutput(many=True, read_only=True)

    class Meta(WebhookDeliveryOutput.Meta):
        fields = [*WebhookDeliveryOutput.Meta.fields, "attempt_log"]


class WebhookEventTypeOutput(serializers.Serializer):
    type = serializers.CharField()
    description = serializers.CharField()


class EventTypeListApi(APIView):
    """The event types an endpoint can subscribe to (and `webhook.test`, sent by the test action only)."""

    permission_classes = [IsStaff]

    @extend_schema(operation_id="v1_webhooks_events_list", responses=WebhookEventTypeOutput(many=True))
    def get(self, request):
        rows = [{"type": name, "description": text} for name, text in EVENT_TYPES.items()]
        return Reply(WebhookEventTypeOutput(rows, many=True).data)


class EndpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    queryset = Endpoint.objects.all()
    serializer_class = WebhookEndpointOutput
    permission_classes = [IsStaff]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @extend_schema(request=EndpointInput, responses={201: WebhookEndpointOutput})
    def create(self, request):
        endpoint = services.endpoint_create(**validated(EndpointInput, request.data))
        return Reply(WebhookEndpointOutput(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EndpointInput, responses=WebhookEndpointOutput)
    def partial_update(self, request, pk=None):
        changes = validated(EndpointInput, request.data, partial=True)
        return Reply(WebhookEndpointOutput(services.endpoint_update(endpoint=self.get_object(), **changes)).data)

    def perform_destroy(self, instance):
        services.endpoint_delete(endpoint=instance)

    @extend_schema(
        request=None,
        responses={
            202: WebhookDeliveryOutput,
            409: OpenApiResponse(description="The endpoint is turned off; turn it on before sending it a test event."),
        },
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Send a `webhook.test` event to this endpoint now, whatever its event filter."""
        delivery = services.endpoint_send_test(endpoint=self.get_object())
        return Reply(WebhookDeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=WebhookEndpointOutput)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new secret, used from the next attempt on; the old one stops working at once."""
        return Reply(WebhookEndpointOutput(services.endpoint_rotate_secret(endpoint=self.get_object())).data)


class DeliveryQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.values, required=False)
    event_type = serializers.ChoiceField(choices=list(EVENT_TYPES), required=False)


ENDPOINT_PK = OpenApiParameter("endpoint_pk", int, OpenApiParameter.PATH, description="The endpoint's id")


class _EndpointDeliveries(generics.GenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = WebhookDeliveryOutput
    queryset = Delivery.objects.all()  # the schema reads the id's type from it; the views filter by endpoint

    def endpoint(self) -> Endpoint:
        return generics.get_object_or_404(Endpoint.objects.all(), pk=self.kwargs["endpoint_pk"])

    def delivery(self) -> Delivery:
        return generics.get_object_or_404(
            Delivery.objects.select_related("endpoint"), pk=self.kwargs["pk"], endpoint=self.endpoint()
        )


class DeliveryListApi(_EndpointDeliveries):
    """The endpoint's delivery log, newest first."""

    @extend_schema(
        operation_id="v1_webhooks_endpoints_deliveries_list",
        parameters=[
            ENDPOINT_PK,
            OpenApiParameter("status", str, enum=DeliveryStatus.values, description="Only deliveries in this state"),
            OpenApiParameter("event_type", str, enum=list(EVENT_TYPES), description="Only this event type"),
        ],
        responses=WebhookDeliveryOutput(many=True),
    )
    def get(self, request, *args, **kwargs):
        query = validated(DeliveryQuery, request.query_params)
        deliveries = selectors.deliveries_of(
            self.endpoint(), status=query.get("status"), event_type=query.get("event_type")
        )
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(WebhookDeliveryOutput(page, many=True).data)


class DeliveryDetailApi(_EndpointDeliveries):
    """One delivery, with every attempt it took."""

    @extend_schema(
        operation_id="v1_webhooks_endpoints_deliveries_retrieve",
        parameters=[ENDPOINT_PK],
        responses=WebhookDeliveryDetailOutput,
    )
    def get(self, request, *args, **kwargs):
        return Reply(WebhookDeliveryDetailOutput(self.delivery()).data)


class DeliveryRedeliverApi(_EndpointDeliveries):
    """Send a succeeded or failed delivery again: same webhook-id and body, a fresh retry schedule."""

    @extend_schema(
        operation_id="v1_webhooks_endpoints_deliveries_redeliver",
        parameters=[ENDPOINT_PK],
        request=None,
        responses={
            202: WebhookDeliveryOutput,
            409: OpenApiResponse(description="The delivery is still being sent; wait for it to succeed or fail."),
        },
    )
    def post(self, request, *args, **kwargs):
        delivery = services.delivery_redeliver(delivery=self.delivery())
        return Reply(WebhookDeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)
