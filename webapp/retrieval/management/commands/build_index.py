"""Bring the search index up to date.

python manage.py build_index            # embed what is missing, drop what was deleted, reconcile
python manage.py build_index --full     # full rebuild into a new folder, swapped in atomically
python manage.py build_index --full --background   # the same as a job on the `index` queue
"""

import json

from django.core.management.base import BaseCommand, CommandError

from webapp.errors import ApplicationError
from webapp.retrieval import selectors, services
from webapp.retrieval.models import IndexBuild


class Command(BaseCommand):
    help = "Embed new texts and update the search index (--full: rebuild it and swap it in)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="rebuild from every stored vector")
        parser.add_argument("--background", action="store_true", help="with --full: queue a job instead")

    def handle(self, *args, full: bool, background: bool, **options):
        try:
            if not full:
                result = services.index_sync(on_progress=self._progress)
            else:
                job = services.index_build_create(user=None)
                if background:
                    self.stdout.write(f"rebuild queued as job {job.pk}")
                    return
                # The same path a worker takes; this process claims the job itself.
                services.index_build_run(job.pk)
                job = IndexBuild.objects.get(pk=job.pk)
                if job.status != "succeeded":
                    raise CommandError(f"rebuild {job.status}: {job.error}")
                result = job.result
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(json.dumps({**result, "status": selectors.index_status()}, default=str))

    def _progress(self, done: int, total: int) -> None:
        self.stderr.write(f"embedded {done}/{total}")
