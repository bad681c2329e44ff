from django.contrib import admin

from webapp.retrieval.models import IndexBuild, SearchIndex, TranslationLink


@admin.register(SearchIndex)
class SearchIndexAdmin(admin.ModelAdmin):
    list_display = ["model_key", "vector_count", "generation", "built_at", "synced_at"]
    readonly_fields = [f.name for f in SearchIndex._meta.fields]


@admin.register(IndexBuild)
class IndexBuildAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "model_key", "progress_done", "progress_total", "created_at"]
    readonly_fields = [f.name for f in IndexBuild._meta.fields]


@admin.register(TranslationLink)
class TranslationLinkAdmin(admin.ModelAdmin):
    list_display = ["prompt_a", "prompt_b", "decision", "score", "group", "decided_by", "decided_at"]
