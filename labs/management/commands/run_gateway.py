"""`manage.py run_gateway`: serve the per-session Docker API sockets (labs.gateway.server).

Runs next to the Docker engine, as root (bind mounts from inside labs need it); `make run`
starts it. Stop it with Ctrl-C or SIGTERM; a restart re-serves every session folder.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the Docker API gateway of every Docker lab session (one unix socket per session)."

    def add_arguments(self, parser):
        parser.add_argument("--root", default=None, help="session folders (default: settings.BERTH_GATEWAY_DIR)")
        parser.add_argument("--engine", default=None, help="Docker engine URL (default: settings.BERTH_DOCKER_URL)")

    def handle(self, *args, root=None, engine=None, **options):
        from labs.gateway import server

        level = logging.DEBUG if options.get("verbosity", 1) > 1 else logging.INFO
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        root = root or str(settings.BERTH_GATEWAY_DIR)
        engine = engine or settings.BERTH_DOCKER_URL
        self.stdout.write(f"Docker API gateway: serving {root} (engine {engine}); Ctrl-C to stop")
        server.run(root, engine, instance=settings.BERTH_INSTANCE)
