from django.urls import path, re_path
from rest_framework.routers import APIRootView
from rest_framework.urlpatterns import format_suffix_patterns

from webapp.feedback.api import (
    annotations,
    campaign_jobs,
    campaigns,
    contributions,
    contributors,
    languages,
    preferences,
    prompts,
    responses,
    tasks,
    transfers,
)
from webapp.feedback.workspace import api as workspace_api

# The routes DRF's DefaultRouter wrote for the former viewsets, unchanged: same regular expressions (an id is
# anything up to a slash or a dot), names, order (`tasks/next/` before `tasks/{id}/`), API root and `.json`-style
# format suffixes.
ID = r"(?P<pk>[^/.]+)"

resources = [
    re_path(r"^languages/$", languages.LanguageListCreateApi.as_view(), name="language-list"),
    re_path(rf"^languages/{ID}/$", languages.LanguageDetailApi.as_view(), name="language-detail"),
    re_path(r"^campaigns/$", campaigns.CampaignListCreateApi.as_view(), name="campaign-list"),
    re_path(rf"^campaigns/{ID}/$", campaigns.CampaignDetailApi.as_view(), name="campaign-detail"),
    re_path(rf"^campaigns/{ID}/suggestions/$", campaigns.CampaignSuggestionsApi.as_view(), name="campaign-suggestions"),
    re_path(rf"^campaigns/{ID}/tasks/$", campaigns.CampaignTasksApi.as_view(), name="campaign-tasks"),
    re_path(rf"^campaigns/{ID}/jobs/$", campaign_jobs.CampaignJobLaunchApi.as_view(), name="campaign-jobs"),
    re_path(r"^campaign-jobs/$", campaign_jobs.CampaignJobListApi.as_view(), name="campaign-job-list"),
    re_path(rf"^campaign-jobs/{ID}/$", campaign_jobs.CampaignJobDetailApi.as_view(), name="campaign-job-detail"),
    re_path(rf"^campaign-jobs/{ID}/cancel/$", campaign_jobs.CampaignJobCancelApi.as_view(), name="campaign-job-cancel"),
    re_path(r"^prompts/$", prompts.PromptListCreateApi.as_view(), name="prompt-list"),
    re_path(rf"^prompts/{ID}/$", prompts.PromptDetailApi.as_view(), name="prompt-detail"),
    re_path(r"^responses/$", responses.ResponseListCreateApi.as_view(), name="response-list"),
    re_path(rf"^responses/{ID}/$", responses.ResponseDetailApi.as_view(), name="response-detail"),
    re_path(r"^tasks/$", tasks.TaskListCreateApi.as_view(), name="task-list"),
    re_path(r"^tasks/next/$", tasks.TaskNextApi.as_view(), name="task-next"),
    re_path(rf"^tasks/{ID}/$", tasks.TaskDetailApi.as_view(), name="task-detail"),
    re_path(rf"^tasks/{ID}/annotations/$", tasks.TaskAnnotationsApi.as_view(), name="task-annotations"),
    re_path(rf"^tasks/{ID}/gold/$", tasks.TaskGoldApi.as_view(), name="task-gold"),
    re_path(rf"^tasks/{ID}/lease/$", tasks.TaskLeaseApi.as_view(), name="task-lease"),
    re_path(rf"^tasks/{ID}/skip/$", tasks.TaskSkipApi.as_view(), name="task-skip"),
    re_path(rf"^tasks/{ID}/contributions/$", contributions.TaskContributionsApi.as_view(), name="task-contributions"),
    re_path(rf"^tasks/{ID}/verdicts/$", contributions.TaskVerdictsApi.as_view(), name="task-verdicts"),
    re_path(r"^contributions/$", contributions.ContributionListApi.as_view(), name="contribution-list"),
    re_path(
        r"^contributions/review-queue/$",
        contributions.ContributionReviewQueueApi.as_view(),
        name="contribution-review-queue",
    ),
    re_path(
        rf"^contributions/{ID}/override/$",
        contributions.ContributionOverrideApi.as_view(),
        name="contribution-override",
    ),
    re_path(r"^contributors/stats/$", contributions.ContributorStatsApi.as_view(), name="contributor-stats"),
    re_path(r"^contributors/leaderboard/$", contributors.LeaderboardApi.as_view(), name="contributor-leaderboard"),
    re_path(r"^contributors/moderation/$", contributors.ModerationApi.as_view(), name="contributor-moderation"),
    re_path(r"^annotations/$", annotations.AnnotationListApi.as_view(), name="annotation-list"),
    re_path(rf"^annotations/{ID}/$", annotations.AnnotationDetailApi.as_view(), name="annotation-detail"),
    re_path(r"^preferences/$", preferences.PreferenceListCreateApi.as_view(), name="preference-list"),
    re_path(rf"^preferences/{ID}/$", preferences.PreferenceDetailApi.as_view(), name="preference-detail"),
    re_path(r"^transfers/$", transfers.TransferListApi.as_view(), name="transfer-list"),
    re_path(r"^transfers/export/$", transfers.TransferExportApi.as_view(), name="transfer-export"),
    re_path(r"^transfers/import/$", transfers.TransferImportApi.as_view(), name="transfer-import-file"),
    re_path(rf"^transfers/{ID}/$", transfers.TransferDetailApi.as_view(), name="transfer-detail"),
    re_path(rf"^transfers/{ID}/cancel/$", transfers.TransferCancelApi.as_view(), name="transfer-cancel"),
    re_path(rf"^transfers/{ID}/download/$", transfers.TransferDownloadApi.as_view(), name="transfer-download"),
]
api_root = APIRootView.as_view(
    api_root_dict={
        prefix: f"{name}-list"
        for prefix, name in [
            ("languages", "language"),
            ("campaigns", "campaign"),
            ("campaign-jobs", "campaign-job"),
            ("prompts", "prompt"),
            ("responses", "response"),
            ("tasks", "task"),
            ("annotations", "annotation"),
            ("contributions", "contribution"),
            ("preferences", "preference"),
            ("transfers", "transfer"),
        ]
    }
)

urlpatterns = [
    path("me/progress/", workspace_api.ProgressView.as_view(), name="progress"),
    path("review/", workspace_api.ReviewView.as_view(), name="review-report"),
    *format_suffix_patterns([*resources, path("", api_root, name="api-root")]),
]
