import json

from django.conf import settings
from django.core.management.base import BaseCommand
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from labs.services import default_host

PERIODIC = [
    # name, task, seconds
    ("labs: reap expired and idle sessions", "labs.tasks.reap_lab_sessions", settings.BERTH_REAP_INTERVAL_SECONDS),
    ("labs: reconcile containers and sessions", "labs.tasks.reconcile_lab_sessions", 60),
    ("labs: place queued sessions", "labs.tasks.dispatch_lab_sessions", 15),
    ("labs: check Docker hosts", "labs.tasks.check_docker_hosts", 30),
]


class Command(BaseCommand):
    help = "Make sure the local Docker host row and the periodic lab jobs exist. Idempotent."

    def handle(self, *args, **options):
        host = default_host()
        self.stdout.write(f"Docker host '{host.name}' at {host.base_url} (capacity {host.capacity})")
        for name, task, seconds in PERIODIC:
            schedule, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
            PeriodicTask.objects.update_or_create(
                name=name, defaults={"task": task, "interval": schedule, "enabled": True, "kwargs": json.dumps({})}
            )
            self.stdout.write(f"  every {seconds:>3}s  {task}")
