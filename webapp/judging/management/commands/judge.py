"""`manage.py judge`: run a registered judge over a campaign's tasks, in-process or queued for a worker."""

from django.core.management.base import BaseCommand, CommandError

from webapp.errors import ApplicationError
from webapp.feedback.models import Campaign
from webapp.judging.models import JudgeJob
from webapp.judging.services import judge_job_create, judge_job_run


class Command(BaseCommand):
    help = (
        "Rank every task of a campaign with a registered judge; its rankings are stored with source judge and "
        "origin NAME@VERSION and never count as a person's. Tasks it ranked already are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--judge", required=True, help="a registered judge: NAME@VERSION (or NAME)")
        parser.add_argument("--campaign", required=True, help="campaign name")
        parser.add_argument(
            "--language", action="append", dest="languages", default=[], help="only this language's tasks (repeat)"
        )
        parser.add_argument(
            "--background", action="store_true", help="queue it for a worker on the judge's queue instead"
        )

    def handle(self, *args, **o):
        campaign = Campaign.objects.alive().filter(name=o["campaign"]).first()
        if campaign is None:
            raise CommandError(f"No campaign {o['campaign']!r}")
        try:
            job, created = judge_job_create(
                judge=o["judge"], campaign=campaign, languages=o["languages"], user=None, enqueue=o["background"]
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if o["background"]:
            verb = "Queued" if created else "Already queued or running:"
            self.stdout.write(f"{verb} judge job {job.pk} ({job.judge}) on queue {job.judge_queue}.")
            return
        if not created:
            raise CommandError(f"Judge job {job.pk} of {job.judge} on this campaign is {job.status} already.")
        judge_job_run(job.pk)
        job = JudgeJob.objects.get(pk=job.pk)
        if job.status != "succeeded":
            raise CommandError(f"Judging {job.status}: {job.error}")
        r = job.result
        self.stdout.write(
            f"{job.judge}: {r['ranked']} task(s) ranked, {r['already']} ranked before, {r['invalid']} invalid "
            f"ranking(s), of {r['tasks']}."
        )
        for error in r["errors"]:
            self.stdout.write(f"  task {error['task']}: {error['error']}")
