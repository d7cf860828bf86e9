from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from courses.content import ContentError
from courses.management.progressbar import ProgressBar
from courses.services import course_import


class Command(BaseCommand):
    help = "Import (or re-import) a course folder. Idempotent; invalid content changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("path", help="Course folder, e.g. content/docker-crash-course")

    def handle(self, *args, path, **options):
        folder = Path(path)
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder")
        bar = ProgressBar(self.stdout._out, label="importing")
        try:
            result = course_import(path=folder, progress=bar)
        except ContentError as exc:
            self.stderr.write(self.style.ERROR(f"{len(exc.problems)} problem(s) in {folder}; nothing was changed:"))
            for problem in exc.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError("import failed") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.course.title}: {len(result.created)} created, {len(result.updated)} updated, "
                f"{result.unchanged} unchanged, {len(result.archived)} archived in {bar.elapsed:.1f}s"
            )
        )
        for item in result.archived:
            self.stdout.write(f"  archived {item} (kept for students' history)")
