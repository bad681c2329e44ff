from django.core.management.base import BaseCommand

from webapp.pages.fonts import installed_families, missing_scripts


class Command(BaseCommand):
    help = (
        "Say whether this machine has fonts for CJK, Devanagari and Arabic text (a browser on it shows empty "
        "boxes without them) and how to install them. Only advises: it always exits 0."
    )

    def handle(self, *args, **options):
        families = installed_families()
        if families is None:
            self.stdout.write(
                "No fontconfig here (fc-list); make sure browsers have Noto fonts for CJK, Devanagari, Arabic."
            )
            return
        missing = missing_scripts(families)
        if not missing:
            self.stdout.write("Fonts for CJK, Devanagari and Arabic are installed.")
            return
        packages = " ".join(sorted(set(missing.values())))
        self.stdout.write(
            self.style.WARNING(
                f"No font on this machine for: {'; '.join(missing)}. A browser here shows those texts as empty boxes.\n"
                f"  Debian/Ubuntu: sudo apt-get install {packages}\n"
                "  Other systems: install Google's Noto Sans CJK, Noto Sans Devanagari and Noto Naskh Arabic."
            )
        )
