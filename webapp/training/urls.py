from rest_framework.routers import DefaultRouter

from webapp.training import api

router = DefaultRouter()
router.register("training-jobs", api.TrainingJobViewSet, basename="training-job")

urlpatterns = router.urls
