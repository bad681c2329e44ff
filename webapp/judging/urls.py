from django.urls import path
from rest_framework.routers import DefaultRouter

from webapp.judging import api

router = DefaultRouter()
router.register("judge-jobs", api.JudgeJobViewSet, basename="judge-job")

urlpatterns = [path("judges/", api.JudgeListApi.as_view(), name="judge-list"), *router.urls]
