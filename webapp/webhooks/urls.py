from django.urls import re_path
from rest_framework.routers import DefaultRouter

from webapp.webhooks import api

router = DefaultRouter()
router.register("webhooks/endpoints", api.EndpointViewSet, basename="webhook-endpoint")

ENDPOINT = r"(?P<endpoint_pk>[^/.]+)"
ID = r"(?P<pk>[^/.]+)"
DELIVERIES = rf"^webhooks/endpoints/{ENDPOINT}/deliveries"

urlpatterns = [
    re_path(r"^webhooks/events/$", api.EventTypeListApi.as_view(), name="webhook-events"),
    re_path(rf"{DELIVERIES}/$", api.DeliveryListApi.as_view(), name="webhook-delivery-list"),
    re_path(rf"{DELIVERIES}/{ID}/$", api.DeliveryDetailApi.as_view(), name="webhook-delivery-detail"),
    re_path(rf"{DELIVERIES}/{ID}/redeliver/$", api.DeliveryRedeliverApi.as_view(), name="webhook-delivery-redeliver"),
    *router.urls,
]
