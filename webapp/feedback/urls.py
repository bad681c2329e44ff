from django.urls import path
from rest_framework.routers import DefaultRouter

from webapp.feedback import api
from webapp.feedback.workspace import api as workspace_api

router = DefaultRouter()
router.register("languages", api.LanguageViewSet, basename="language")
router.register("campaigns", api.CampaignViewSet, basename="campaign")
router.register("prompts", api.PromptViewSet, basename="prompt")
router.register("responses", api.ResponseViewSet, basename="response")
router.register("tasks", api.TaskViewSet, basename="task")
router.register("annotations", api.AnnotationViewSet, basename="annotation")
router.register("preferences", api.PreferenceViewSet, basename="preference")
router.register("transfers", api.TransferViewSet, basename="transfer")

urlpatterns = [
    path("me/progress/", workspace_api.ProgressView.as_view(), name="progress"),
    path("review/", workspace_api.ReviewView.as_view(), name="review-report"),
    *router.urls,
]
