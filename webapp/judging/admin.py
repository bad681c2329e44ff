from django.contrib import admin

from webapp.judging.models import JudgeJob


@admin.register(JudgeJob)
class JudgeJobAdmin(admin.ModelAdmin):
    list_display = ("id", "judge", "campaign", "status", "progress_done", "progress_total", "created_at")
    list_filter = ("status", "judge")
    readonly_fields = [f.name for f in JudgeJob._meta.fields]
