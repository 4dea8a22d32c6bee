from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accountability.models import Team
from leads.importing import COLUMNS, ImportFileError, import_rows, parse_csv


class Command(BaseCommand):
    help = (
        "Import leads from a UTF-8 CSV file into a team. Columns: "
        + ", ".join(COLUMNS)
        + ". With bad rows nothing is imported unless --skip-bad is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the CSV file")
        parser.add_argument("--team", required=True, help="Team name (exact)")
        parser.add_argument("--skip-bad", action="store_true", help="Import the good rows and list the rejected ones")

    def handle(self, *args, file: str, team: str, skip_bad: bool, **options):
        try:
            team_obj = Team.objects.get(name=team)
        except Team.DoesNotExist:
            raise CommandError(f"No team called {team!r}.") from None
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            parsed = parse_csv(path.read_bytes(), team=team_obj)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        if parsed.ignored_columns:
            self.stdout.write(f"Ignored columns: {', '.join(parsed.ignored_columns)}.")
        for row in parsed.rows:
            if row.warnings:
                self.stdout.write(f"line {row.line}: {'; '.join(row.warnings)}")
        for row in parsed.bad:
            self.stderr.write(f"line {row.line}: {'; '.join(row.errors)}")
        if parsed.bad and not skip_bad:
            raise CommandError(
                f"Nothing imported: {len(parsed.bad)} of {len(parsed.rows)} rows have errors. "
                "Fix them, or run again with --skip-bad to import the good rows."
            )
        result = import_rows(actor=None, team=team_obj, rows=parsed.rows, skip_bad=skip_bad)
        if result.rejected and not skip_bad:
            raise CommandError(f"Nothing imported: {'; '.join(result.rejected[0].errors)}")
        self.stdout.write(
            f"Imported {result.created} lead(s) into {team_obj}; "
            f"{result.duplicates} matched open leads (recorded as inquiries); "
            f"{len(result.rejected)} row(s) rejected."
        )
