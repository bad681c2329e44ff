"""Campaigns: everyone signed in lists the ones their role may see; staff create and delete them."""

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import generics, mixins, serializers, status
from rest_framework.response import Response as Reply

from webapp.apifields import JSONInput
from webapp.feedback import selectors
from webapp.feedback.api.common import RoleScoped, validated
from webapp.feedback.models import Campaign
from webapp.feedback.services import catalog
from webapp.permissions import StaffWrites


class CampaignOutput(serializers.ModelSerializer):
    languages = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Campaign
        fields = ["id", "name", "guidelines", "languages", "overlap", "is_active", "created_at"]


class _CampaignApi(RoleScoped, generics.GenericAPIView):
    model = Campaign
    selector = staticmethod(selectors.campaigns_for_user)
    serializer_class = CampaignOutput
    permission_classes = [StaffWrites]


class CampaignListCreateApi(mixins.ListModelMixin, _CampaignApi):
    """GET: the campaigns you may see. POST (staff): a new campaign."""

    @extend_schema_serializer(component_name="CampaignInput")
    class InputSerializer(JSONInput):
        name = serializers.CharField(max_length=200)
        guidelines = serializers.CharField(required=False, allow_blank=True, default="")
        languages = serializers.ListField(child=serializers.CharField(max_length=35), min_length=1)
        overlap = serializers.IntegerField(min_value=1, max_value=50, default=2)

    @extend_schema(operation_id="v1_campaigns_list", responses=CampaignOutput(many=True))
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(operation_id="v1_campaigns_create", request=InputSerializer, responses={201: CampaignOutput})
    def post(self, request, *args, **kwargs):
        campaign = catalog.campaign_create(**validated(self.InputSerializer, request.data))
        return Reply(CampaignOutput(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDetailApi(_CampaignApi):
    """GET: one campaign. DELETE (staff): delete it."""

    @extend_schema(operation_id="v1_campaigns_retrieve", responses=CampaignOutput)
    def get(self, request, *args, **kwargs):
        return Reply(CampaignOutput(self.get_object()).data)

    @extend_schema(operation_id="v1_campaigns_destroy")
    def delete(self, request, *args, **kwargs):
        catalog.campaign_delete(campaign=self.get_object())
        return Reply(status=status.HTTP_204_NO_CONTENT)
