import secrets

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the admin account with a random password, printed once; do nothing if an admin exists."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("An admin account exists already (reset with: python manage.py changepassword NAME).")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(self.style.SUCCESS(f"Admin account created: {username} / {password}  (shown only this once)"))
