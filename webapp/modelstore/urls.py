from rest_framework.routers import DefaultRouter

from webapp.modelstore import api

router = DefaultRouter()
router.register("variants", api.VariantViewSet, basename="variant")
router.register("model-jobs", api.ModelJobViewSet, basename="model-job")

urlpatterns = router.urls
