from django.contrib import admin

from webapp.training.models import TrainingJob


@admin.register(TrainingJob)
class TrainingJobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "parent", "status", "progress_done", "progress_total", "variant", "created_at"]
    list_filter = ["kind", "status"]
