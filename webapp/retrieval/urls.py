from django.urls import path

from webapp.retrieval import api

urlpatterns = [
    path("search/", api.SearchApi.as_view(), name="search-api"),
    path("search/related/", api.RelatedApi.as_view(), name="search-related"),
    path("search/index/", api.IndexStatusApi.as_view(), name="search-index"),
    path("search/index/builds/", api.IndexBuildApi.as_view(), name="search-index-builds"),
    path("search/translation-links/", api.TranslationLinksApi.as_view(), name="search-translation-links"),
    path("search/duplicates/", api.DuplicatesApi.as_view(), name="search-duplicates"),
]
