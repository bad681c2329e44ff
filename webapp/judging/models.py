"""Judge jobs: a registered judge (webapp.feedback.extensions.judges) run over a campaign's tasks."""

from django.db import models

from webapp.feedback.models import Campaign
from webapp.jobs.models import Job


class JudgeJob(Job):
    """Ranks every alive task of a campaign (optionally of some languages) with one judge, storing each
    ranking with source `judge` (webapp/feedback/services/judging.py). Resumable: a task the judge
    ranked already is skipped. It runs on its judge's queue (`gpu` for a judge that runs a model)."""

    task_name = "workers.tasks.judging.run_judge_job"

    judge = models.CharField(max_length=200, help_text="The judge's origin, NAME@VERSION")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="judge_jobs")
    languages = models.JSONField(default=list, blank=True, help_text="Language codes; empty: all of the campaign's")
    judge_queue = models.CharField(max_length=20, default="default", help_text="The Celery queue it runs on")
    result = models.JSONField(default=dict, blank=True)

    class Meta(Job.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"judge job {self.pk}: {self.judge} on campaign {self.campaign_id}"

    def target_queue(self) -> str:
        return self.judge_queue or type(self).queue
