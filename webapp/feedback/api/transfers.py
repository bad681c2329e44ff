"""Imports and exports (staff), run by workers: start one, poll it for progress, counts and bad lines, cancel it,
download an export's file."""

from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import generics, mixins, serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response as Reply

from webapp.apifields import JSONInput
from webapp.feedback.api.common import validated
from webapp.feedback.formats.exporting import LICENSE_ID
from webapp.feedback.formats.pairs import EXPANSIONS
from webapp.feedback.formats.registry import export_formats, import_formats
from webapp.feedback.models import TransferJob
from webapp.feedback.services import transfers
from webapp.feedback.services.importing import AUTO
from webapp.feedback.services.languages import InvalidLanguage, canonical_tag
from webapp.feedback.sources import MAX_ORIGIN, Source
from webapp.jobs.api import IDEMPOTENCY_KEY, JOB_FIELDS, launch_once, queued
from webapp.jobs.services import job_request_cancel
from webapp.permissions import IsStaff
from webapp.safejson import DepthLimitedJSONParser

# auto and the registered import formats, and the export formats (every app has registered its own by the time
# URLs load); named in SPECTACULAR_SETTINGS so the two `format` fields keep distinct enums.
IMPORT_FORMATS = [AUTO, *import_formats.names()]
EXPORT_FORMATS = list(export_formats.names())


class TransferOutput(serializers.ModelSerializer):
    class Meta:
        model = TransferJob
        fields = JOB_FIELDS


class _TransferApi(generics.GenericAPIView):
    queryset = TransferJob.objects.all()
    serializer_class = TransferOutput
    permission_classes = [IsStaff]


class TransferListApi(mixins.ListModelMixin, _TransferApi):
    """Imports and exports run by workers; poll a job for progress, counts and bad lines."""

    @extend_schema(operation_id="v1_transfers_list", responses=TransferOutput(many=True))
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


class TransferDetailApi(_TransferApi):
    """One import or export job: its status, progress, counts and bad lines."""

    @extend_schema(operation_id="v1_transfers_retrieve", responses=TransferOutput)
    def get(self, request, *args, **kwargs):
        return Reply(TransferOutput(self.get_object()).data)


class TransferImportApi(_TransferApi):
    """Upload a file of pairs and/or rankings, or of a published dataset (`format`), as JSON Lines,
    gzip-compressed JSON Lines or Parquet; a worker imports it."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="ImportInput")
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(
            help_text="JSON Lines, gzip-compressed JSON Lines or Parquet; for format hf, the .zip of an hf export"
        )
        skip_invalid = serializers.BooleanField(default=False)
        format = serializers.ChoiceField(
            choices=IMPORT_FORMATS,
            default=AUTO,
            help_text="auto: pairs and rankings, told apart line by line; or a published dataset's format",
        )
        language = serializers.CharField(
            max_length=35, default="en", help_text="BCP-47 tag for formats whose records name no language"
        )

        def validate_language(self, value: str) -> str:
            try:
                return canonical_tag(value)
            except InvalidLanguage as exc:  # refused before the upload is stored
                raise serializers.ValidationError(exc.message) from None

    @extend_schema(
        operation_id="v1_transfers_import_create",
        request={"multipart/form-data": InputSerializer},
        responses={202: TransferOutput},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request, *args, **kwargs):
        data = validated(self.InputSerializer, request.data)

        def launch():
            path = transfers.upload_store(data["file"])
            return queued(
                transfers.transfer_import_create(
                    path=path,
                    skip_invalid=data["skip_invalid"],
                    format=data["format"],
                    data_language=data["language"],
                    user=request.user,
                )
            )

        return launch_once(request, launch, TransferOutput)


class TransferExportApi(_TransferApi):
    """Export the chosen data in one of the export formats; a worker writes the file."""

    parser_classes = [DepthLimitedJSONParser]

    @extend_schema_serializer(component_name="ExportInput")
    class InputSerializer(JSONInput):
        format = serializers.ChoiceField(choices=EXPORT_FORMATS, default="pairs")
        languages = serializers.ListField(child=serializers.CharField(max_length=35), required=False, default=list)
        sources = serializers.ListField(
            # Source's own choices (with their labels), so the schema has one SourceEnum in every language.
            child=serializers.ChoiceField(choices=Source.choices),
            required=False,
            default=list,
            help_text="none: every source but judge",
        )
        origins = serializers.ListField(
            child=serializers.CharField(max_length=MAX_ORIGIN),
            required=False,
            default=list,
            help_text="e.g. rankings, pairs, oasst, local; none: any",
        )
        campaigns = serializers.ListField(child=serializers.CharField(max_length=200), required=False, default=list)
        pairs = serializers.ChoiceField(choices=EXPANSIONS, default="best_vs_rest")
        min_agreement = serializers.FloatField(min_value=0.5, max_value=0.999, default=0.5)
        min_annotators = serializers.IntegerField(min_value=1, max_value=100, default=1)
        include_flagged = serializers.BooleanField(default=False)
        include_pending = serializers.BooleanField(
            default=False, help_text="also pending contributions: written and edited answers, edits' pairs"
        )
        since = serializers.CharField(required=False, max_length=40, help_text="ISO 8601 date or time (inclusive)")
        until = serializers.CharField(required=False, max_length=40, help_text="ISO 8601 date or time (exclusive)")
        test_fraction = serializers.FloatField(
            min_value=0, max_value=0.5, default=0.1, help_text="hf: share of translation groups in the test split"
        )
        license = serializers.RegexField(
            LICENSE_ID, required=False, max_length=64, help_text="hf: the licence id the dataset card declares"
        )

    @extend_schema(
        operation_id="v1_transfers_export_create",
        request=InputSerializer,
        responses={202: TransferOutput},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request, *args, **kwargs):
        params = validated(self.InputSerializer, request.data)
        return launch_once(
            request, lambda: queued(transfers.transfer_export_create(params=params, user=request.user)), TransferOutput
        )


class TransferDownloadApi(_TransferApi):
    """The file a finished export wrote: JSON Lines, or for a folder format (hf) a .zip of the folder."""

    @extend_schema(
        operation_id="v1_transfers_download_retrieve",
        responses={200: OpenApiResponse(description="The JSON Lines file, or a .zip of the hf dataset folder")},
    )
    def get(self, request, *args, **kwargs):
        path = transfers.transfer_output(self.get_object())
        kind = "application/zip" if path.suffix == ".zip" else "application/jsonl"
        return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type=kind)


class TransferCancelApi(_TransferApi):
    """A queued job is cancelled at once, a running one at its next check."""

    @extend_schema(operation_id="v1_transfers_cancel_create", request=None, responses={200: TransferOutput})
    def post(self, request, *args, **kwargs):
        job = self.get_object()
        job_request_cancel(job)
        job.refresh_from_db()
        return Reply(TransferOutput(job).data)
