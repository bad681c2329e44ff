from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from webapp import views
from webapp.feedback import views as feedback_views
from webapp.modelstore import views as modelstore_views
from webapp.training import views as training_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("transfers/", feedback_views.transfers_page, name="transfers"),
    path("models/", modelstore_views.models_page, name="models"),
    path("jobs/", training_views.jobs_page, name="jobs"),
    path("jobs/<int:pk>/", training_views.job_page, name="job"),
    path("admin/", admin.site.urls),
    path("api/v1/auth/token/", obtain_auth_token, name="api-token"),
    path("api/v1/", include("webapp.feedback.urls")),
    path("api/v1/", include("webapp.modelstore.urls")),
    path("api/v1/", include("webapp.training.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
