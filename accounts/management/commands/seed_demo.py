import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Cohort, Membership, User
from accounts.services import membership_add
from courses.models import Course

DEMO_USERS = [
    # username, full name, password, role
    ("admin", "Ada Admin", "berth-admin", "admin"),
    ("instructor", "Ian Instructor", "berth-teach", Membership.Role.INSTRUCTOR),
    ("alice", "Alice Student", "berth-student", Membership.Role.STUDENT),
    ("bob", "Bob Student", "berth-student", Membership.Role.STUDENT),
]


class Command(BaseCommand):
    help = "Create the demo accounts (an admin, an instructor, two students) and a demo cohort. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--course", default="docker-crash-course")
        parser.add_argument("--cohort", default="demo")

    @transaction.atomic
    def handle(self, *args, course, cohort, **options):
        course_obj = Course.objects.filter(slug=course).first()
        if course_obj is None:
            raise CommandError(f"course {course!r} is not imported; run manage.py import_course first")
        today = timezone.localdate()
        cohort_obj, _ = Cohort.objects.get_or_create(
            slug=cohort,
            defaults={
                "course": course_obj,
                "name": "Demo cohort",
                "starts_on": today,
                "ends_on": today + datetime.timedelta(days=90),
                "join_code": "DEMO2026",
            },
        )
        for username, name, password, role in DEMO_USERS:
            user, _ = User.objects.get_or_create(
                username=username, defaults={"full_name": name, "email": f"{username}@example.com"}
            )
            user.full_name = name
            user.set_password(password)
            if role == "admin":
                user.is_staff = user.is_superuser = True
            user.save()
            if role != "admin":
                membership_add(user=user, cohort=cohort_obj, role=role)
        self.stdout.write(self.style.SUCCESS(f"Demo cohort '{cohort_obj.name}' (join code {cohort_obj.join_code})"))
        for username, _, password, role in DEMO_USERS:
            self.stdout.write(f"  {role:<10} {username:<11} password: {password}")
