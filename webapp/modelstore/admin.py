from django.contrib import admin

from webapp.modelstore.models import ModelJob, ModelVariant


@admin.register(ModelVariant)
class ModelVariantAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "parent", "status", "size_bytes", "enrolled_in_arena", "created_at"]
    list_filter = ["kind", "status", "enrolled_in_arena"]


@admin.register(ModelJob)
class ModelJobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "progress_done", "progress_total", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
