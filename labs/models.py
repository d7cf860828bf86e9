"""Labs and what happens in them: hosts, labs and tasks (content), sessions and their history,
check attempts, per-student task progress, terminal recordings, submissions and reviews."""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse


class DockerHost(models.Model):
    """A Docker engine that runs lab containers. A worker consumes the host's own Celery queue."""

    name = models.SlugField(max_length=64, unique=True)
    base_url = models.CharField(max_length=300, default="unix:///var/run/docker.sock")
    capacity = models.PositiveIntegerField(default=50, help_text="Live lab sessions this host may run.")
    enabled = models.BooleanField(default=True)
    healthy = models.BooleanField(default=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    engine_version = models.CharField(max_length=64, blank=True)
    runtimes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def queue(self) -> str:
        return f"labs.host.{self.name}"


class Lab(models.Model):
    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="labs")
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    intro_markdown = models.TextField(blank=True)
    intro_html = models.TextField(blank=True)
    lesson = models.ForeignKey(
        "courses.Lesson",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="completing_labs",
        help_text="Completed when every task passes; its text is shown beside the lab.",
    )
    position = models.PositiveIntegerField(default=0)
    image = models.CharField(max_length=200)
    docker_enabled = models.BooleanField(default=False, help_text="The lab gets its own Docker API (gateway).")
    memory_bytes = models.PositiveBigIntegerField(default=512 * 1024 * 1024)
    cpus = models.FloatField(default=1.0)
    pids_limit = models.PositiveIntegerField(default=256)
    disk_bytes = models.PositiveBigIntegerField(default=256 * 1024 * 1024)
    ttl_seconds = models.PositiveIntegerField(default=3600)
    idle_timeout_seconds = models.PositiveIntegerField(default=1200)
    max_extensions = models.PositiveIntegerField(default=2)
    extension_seconds = models.PositiveIntegerField(default=1800)
    check_user = models.CharField(max_length=32, default="student")
    collect_paths = models.JSONField(default=list, blank=True)
    relax = models.JSONField(default=list, blank=True, help_text="Hardening defaults this lab gives up, by name.")
    source_dir = models.CharField(max_length=500, blank=True)
    is_archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["course", "position", "slug"]
        constraints = [models.UniqueConstraint(fields=["course", "slug"], name="lab_slug_unique")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("labs:lab", args=[self.course.slug, self.slug])

    @property
    def total_points(self) -> int:
        return sum(t.points for t in self.tasks.all() if not t.is_archived)


class Task(models.Model):
    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="tasks")
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField()
    instructions_markdown = models.TextField(blank=True)
    instructions_html = models.TextField(blank=True)
    check_script = models.TextField()
    solution_script = models.TextField(blank=True)
    solution_html = models.TextField(blank=True, help_text="Shown to a student who reveals the solution.")
    hints = models.JSONField(default=list, blank=True, help_text="Rendered HTML of each hint, gentle first.")
    points = models.PositiveIntegerField(default=10)
    needs = models.JSONField(default=list, blank=True, help_text="Slugs of tasks that must pass first.")
    timeout_seconds = models.PositiveIntegerField(default=10)
    is_archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["lab", "position"]
        constraints = [models.UniqueConstraint(fields=["lab", "slug"], name="task_slug_unique")]

    def __str__(self) -> str:
        return f"{self.lab.slug}/{self.slug}"


class LabSession(models.Model):
    """One student's sandbox for one lab, from request to end. Change state only via labs.services."""

    class State(models.TextChoices):
        REQUESTED = "requested", "Requested"
        PROVISIONING = "provisioning", "Starting"
        RUNNING = "running", "Running"
        STOPPING = "stopping", "Stopping"
        STOPPED = "stopped", "Stopped"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    LIVE_STATES = (State.REQUESTED, State.PROVISIONING, State.RUNNING, State.STOPPING)
    END_STATES = (State.STOPPED, State.FAILED, State.EXPIRED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lab_sessions")
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="sessions")
    cohort = models.ForeignKey("accounts.Cohort", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.REQUESTED)
    host = models.ForeignKey(DockerHost, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions")
    container_id = models.CharField(max_length=80, blank=True)
    container_name = models.CharField(max_length=120, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    extensions_used = models.PositiveIntegerField(default=0)
    ttl_seconds = models.PositiveIntegerField(help_text="Time to live fixed at request (lab or cohort value).")
    error = models.TextField(blank=True)
    end_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            # The spawn-storm guard: a second live session for the same lab cannot exist.
            models.UniqueConstraint(
                fields=["user", "lab"],
                condition=models.Q(state__in=["requested", "provisioning", "running", "stopping"]),
                name="one_live_session_per_user_lab",
            )
        ]
        indexes = [
            models.Index(fields=["state", "requested_at"]),
            models.Index(fields=["user", "state"]),
            models.Index(fields=["host", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.lab.slug} for {self.user} ({self.state})"

    def get_absolute_url(self) -> str:
        return reverse("labs:session", args=[self.id])

    @property
    def is_live(self) -> bool:
        return self.state in self.LIVE_STATES

    @property
    def short_id(self) -> str:
        return self.id.hex[:12]


class LabSessionEvent(models.Model):
    """The session's history: every state change and operator action, who and why."""

    session = models.ForeignKey(LabSession, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    action = models.CharField(max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.session_id} {self.action} {self.from_state}->{self.to_state}"


class TaskAttempt(models.Model):
    """One run of a task's check in a session."""

    class Kind(models.TextChoices):
        MANUAL = "manual", "Check button"
        AUTO = "auto", "Continuous check"
        SUBMIT = "submit", "Submission"
        CLI = "cli", "Command line"

    session = models.ForeignKey(LabSession, on_delete=models.CASCADE, related_name="attempts")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="attempts")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.MANUAL)
    passed = models.BooleanField()
    errored = models.BooleanField(default=False, help_text="The check could not run (timeout, missing, crash).")
    feedback = models.TextField(blank=True)
    output = models.TextField(blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["session", "task", "-created_at"])]


class TaskProgress(models.Model):
    """A student's standing on one task across sessions: passed, hints and solution used."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="task_progress")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="progress")
    passed_at = models.DateTimeField(null=True, blank=True)
    hints_revealed = models.PositiveIntegerField(default=0)
    solution_revealed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "task"], name="task_progress_unique")]
        verbose_name_plural = "task progress"


class Recording(models.Model):
    """An asciicast v2 file of one terminal connection (output, and input when typed)."""

    session = models.ForeignKey(LabSession, on_delete=models.CASCADE, related_name="recordings")
    tab = models.CharField(max_length=16, default="main")
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    path = models.CharField(max_length=500)
    size_bytes = models.PositiveBigIntegerField(default=0)
    truncated = models.BooleanField(default=False)
    cols = models.PositiveIntegerField(default=80)
    rows = models.PositiveIntegerField(default=24)

    class Meta:
        ordering = ["started_at"]


class Submission(models.Model):
    """An immutable snapshot of a lab: check results, collected files, recordings, help used."""

    session = models.ForeignKey(LabSession, on_delete=models.PROTECT, related_name="submissions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="submissions")
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    results = models.JSONField(default=list, help_text="Per task: slug, title, passed, feedback, points.")
    help_used = models.JSONField(default=list, help_text="Per task: hints revealed, solution revealed.")
    auto_points = models.PositiveIntegerField(default=0)
    total_points = models.PositiveIntegerField(default=0)
    recordings = models.ManyToManyField(Recording, blank=True, related_name="submissions")

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "lab", "version"], name="submission_version_unique")]

    def __str__(self) -> str:
        return f"{self.lab.slug} v{self.version} by {self.user}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A submission is immutable: submit again to make a new version.")
        super().save(*args, **kwargs)


class SubmissionFile(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=500)
    content = models.BinaryField(blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    truncated = models.BooleanField(default=False)
    missing = models.BooleanField(default=False)

    class Meta:
        ordering = ["path"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Collected files of a submission are immutable.")
        super().save(*args, **kwargs)


class Review(models.Model):
    """An instructor's grade and feedback on a submission."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="review")
    grader = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    points = models.PositiveIntegerField()
    feedback_markdown = models.TextField(blank=True)
    feedback_html = models.TextField(blank=True)
    graded_at = models.DateTimeField(auto_now=True)
    seen_at = models.DateTimeField(null=True, blank=True, help_text="When the student saw it (notification badge).")


class AuditEntry(models.Model):
    """Who did what to whom: operator and instructor actions on sessions, cohorts and people."""

    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=32)
    target_id = models.CharField(max_length=64)
    cohort = models.ForeignKey("accounts.Cohort", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target_type}:{self.target_id}"
