from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from webapp.accounts.api import TokenIssueView
from webapp.arena import views as arena_views
from webapp.feedback.workspace import views as feedback_views
from webapp.modelstore import views as modelstore_views
from webapp.pages import accounts, views
from webapp.retrieval import views as retrieval_views
from webapp.training import views as training_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}favicon.svg", permanent=True)),
    path("annotate/", feedback_views.annotate_page, name="annotate"),
    path("review/", feedback_views.review_page, name="review"),
    path("review/contributions/", feedback_views.review_queue_page, name="review-queue"),
    path("team/", feedback_views.team_page, name="team"),
    path("team/<int:pk>/", feedback_views.annotator_page, name="team-member"),
    path("campaigns/new/", feedback_views.campaign_new_page, name="campaign-new"),
    path("invite/<str:uid>/<str:token>/", feedback_views.invite_accept_page, name="invite-accept"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The JavaScript's strings, from the djangojs catalogues (gettext/ngettext/interpolate in static/*.js).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("transfers/", feedback_views.transfers_page, name="transfers"),
    path("models/", modelstore_views.models_page, name="models"),
    path("models/<int:pk>/", views.variant_page, name="variant"),
    path("jobs/", training_views.jobs_page, name="jobs"),
    path("search/", retrieval_views.search_page, name="search"),
    path("search/links/", retrieval_views.links_page, name="search-links"),
    path("arena-stats/", arena_views.stats_page, name="arena-stats"),
    path("jobs/<int:pk>/", training_views.job_page, name="job"),
    path("admin/login/", accounts.admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("api/v1/auth/token/", TokenIssueView.as_view(), name="api-token"),
    path("api/v1/", include("webapp.feedback.urls")),
    path("api/v1/", include("webapp.modelstore.urls")),
    path("api/v1/", include("webapp.training.urls")),
    path("api/v1/", include("webapp.retrieval.urls")),
    path("api/v1/", include("webapp.arena.urls")),
    path("api/v1/", include("webapp.judging.urls")),
    path("api/v1/", include("webapp.webhooks.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

handler404 = views.not_found
