from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts import enrolment
from accounts.models import Cohort
from courses.management.progressbar import ProgressBar


class Command(BaseCommand):
    help = "Enrol people in a cohort from a CSV file (email, name, role). All rows or none."

    def add_arguments(self, parser):
        parser.add_argument("cohort", help="cohort slug")
        parser.add_argument("file", help="CSV with a header row: email,name,role")
        parser.add_argument("--dry-run", action="store_true", help="only check the file")

    def handle(self, *args, cohort, file, dry_run, **options):
        cohort_obj = Cohort.objects.filter(slug=cohort).first()
        if cohort_obj is None:
            raise CommandError(f"no cohort {cohort}")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        try:
            preview = enrolment.parse(path.read_bytes())
        except enrolment.EnrolmentError as exc:
            raise CommandError(str(exc)) from exc
        bar = ProgressBar(self.stdout._out, label="checking")
        bar(len(preview.rows) + len(preview.problems), len(preview.rows) + len(preview.problems), "rows")
        if preview.problems:
            self.stderr.write(self.style.ERROR(f"{len(preview.problems)} problem(s) in {path}; nothing was changed:"))
            for line, message in preview.problems:
                self.stderr.write(f"  line {line}: {message}")
            raise CommandError("enrolment failed")
        if dry_run:
            self.stdout.write(self.style.SUCCESS(f"{len(preview.rows)} row(s) are fine (dry run: nothing changed)"))
            return
        outcome = enrolment.apply(cohort=cohort_obj, preview=preview)
        self.stdout.write(
            self.style.SUCCESS(
                f"{cohort_obj.name}: {len(outcome.created)} account(s) created (set-password emails sent), "
                f"{len(outcome.enrolled)} enrolled, {len(outcome.unchanged)} already enrolled"
            )
        )
