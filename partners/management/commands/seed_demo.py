import importlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# Each domain app may have a `demo.py` with `seed(context, stdout)`, run in this order.
DOMAIN_APPS = ["deals", "quotes", "cases", "renewals", "mdf", "analytics"]


class Command(BaseCommand):
    help = "Build the demo channel (idempotent). Refuses to run with DEBUG off unless --force."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even though DEBUG is off.")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo writes demo users with a known password; with DEBUG off, pass --force.")
        from partners import demo

        self.stdout.write("Seeding the demo channel…")
        context = demo.seed(stdout=self.stdout)
        for app in DOMAIN_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            self.stdout.write(f"Seeding {app}…")
            module.seed(context, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Done. Every demo user's password is {demo.PASSWORD}."))
