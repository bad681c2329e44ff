from django.contrib import admin

from webapp.feedback import models


@admin.register(models.Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "direction"]
    search_fields = ["code", "name"]


@admin.register(models.Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "overlap", "is_active", "created_at", "deleted_at"]
    list_filter = ["kind"]
    filter_horizontal = ["languages", "annotators"]


@admin.register(models.AnnotatorProfile)
class AnnotatorProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "is_external"]
    filter_horizontal = ["languages"]


@admin.register(models.Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ["id", "language", "group", "source", "version", "text", "deleted_at"]
    list_filter = ["language", "source"]
    search_fields = ["text", "group"]
    readonly_fields = ["content_hash", "previous"]


@admin.register(models.Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["id", "prompt", "model_name", "version", "deleted_at"]
    search_fields = ["text", "model_name"]
    raw_id_fields = ["prompt", "previous"]


class TaskResponseInline(admin.TabularInline):
    model = models.TaskResponse
    raw_id_fields = ["response"]
    extra = 0


@admin.register(models.Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["id", "campaign", "language", "annotation_count", "external_id", "deleted_at"]
    list_filter = ["campaign", "language"]
    raw_id_fields = ["prompt"]
    inlines = [TaskResponseInline]


@admin.register(models.Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["id", "task", "annotator", "ranking", "flags", "created_at"]
    raw_id_fields = ["task"]


@admin.register(models.PreferenceRecord)
class PreferenceRecordAdmin(admin.ModelAdmin):
    list_display = ["id", "external_id", "source", "language", "outcome", "created_at"]
    list_filter = ["source", "language", "outcome"]
    search_fields = ["prompt_text", "external_id"]


@admin.register(models.TransferJob)
class TransferJobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "progress_done", "progress_total", "created_at", "finished_at"]
    list_filter = ["kind", "status"]


@admin.register(models.CampaignJob)
class CampaignJobAdmin(admin.ModelAdmin):
    """Read-only: launch bulk operations through the API (POST /api/v1/campaigns/{id}/jobs/), which validates them."""

    list_display = ["id", "kind", "campaign", "status", "progress_done", "progress_total", "created_at", "finished_at"]
    list_filter = ["kind", "status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.Contribution)
class ContributionAdmin(admin.ModelAdmin):
    """Read-mostly: a contribution is decided by votes or by an override through the API (reason kept)."""

    list_display = ["id", "kind", "contributor", "language", "status", "up_votes", "down_votes", "flagged", "disputed"]
    list_filter = ["kind", "status", "flagged", "disputed"]
    raw_id_fields = [
        "task",
        "contributor",
        "original_response",
        "created_prompt",
        "demonstration",
        "pair",
        "override_by",
    ]
    readonly_fields = ["status", "up_votes", "down_votes", "disputed", "similarity", "flagged", "edit_distance"]


@admin.register(models.Verdict)
class VerdictAdmin(admin.ModelAdmin):
    list_display = ["id", "contribution", "voter", "up", "created_at"]
    raw_id_fields = ["contribution", "voter"]
