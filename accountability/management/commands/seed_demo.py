import importlib

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from accountability.demo import DEMO_PASSWORD, PEOPLE, seed_org, seed_people
from accountability.models import User


class Command(BaseCommand):
    help = "Create the demo sales organisation and its data. Deterministic and safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when any user already exists.")

    def handle(self, *args, if_empty: bool = False, **options):
        if if_empty and User.objects.exists():
            self.stdout.write("Database already has users; demo data not re-seeded.")
        else:
            with transaction.atomic():
                ctx = seed_org()
                seed_people(ctx)
                for config in apps.get_app_configs():
                    if config.name == "accountability":
                        continue
                    try:
                        module = importlib.import_module(f"{config.name}.demo")
                    except ModuleNotFoundError as exc:
                        if exc.name != f"{config.name}.demo":
                            raise
                        continue
                    module.seed(ctx)
            for line in ctx.created:
                self.stdout.write(f"  {line}")
            self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.print_logins()

    def print_logins(self):
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, first, last, role in PEOPLE:
            note = " (head of sales)" if username == "helen" else ""
            self.stdout.write(f"  {username:<8} {role.label}{note}: {first} {last}")
