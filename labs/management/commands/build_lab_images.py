from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from courses.management.progressbar import ProgressBar
from labs.runtime import images


class Command(BaseCommand):
    help = "Build the lab and base images that are missing or out of date (no registry needed)."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="only these images (folder names or tags) and what they need")
        parser.add_argument("--force", action="store_true", help="rebuild everything without the cache")
        parser.add_argument("--check", action="store_true", help="only report what would be built")
        parser.add_argument("--verbose-build", action="store_true", help="stream every build output line")

    def handle(self, *args, names, force, check, verbose_build, **options):
        try:
            client = images.client_for(settings.BERTH_DOCKER_URL)
        except images.ImageError as exc:
            raise CommandError(str(exc)) from exc
        try:
            if check:
                for state in images.check_images(client=client, only=names or None):
                    self.stdout.write(f"{state.state:<11} {', '.join(state.tags)}")
                return
            out = self.stdout._out
            bar = ProgressBar(out, label="images")
            log = (lambda line: out.write(line + "\n")) if verbose_build else None
            results = images.build_all(
                client=client,
                only=names or None,
                force=force,
                progress=lambda step, done, total: bar(done, total, step),
                log=log,
            )
        except images.ImageError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            client.close()
        built = [r for r in results if r.changed]
        for r in results:
            self.stdout.write(f"  {r.status:<11} {', '.join(r.tags):<44} {r.size / 1e6:7.1f} MB {r.seconds:6.1f}s")
        self.stdout.write(self.style.SUCCESS(f"{len(built)} image(s) built, {len(results) - len(built)} up to date"))
