"""Course > Module > Lesson, imported from files (see content/README.md), and lesson progress."""

from django.conf import settings
from django.db import models
from django.urls import reverse


class Course(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    description_html = models.TextField(blank=True)
    source_path = models.CharField(max_length=500, blank=True, help_text="Folder the course was imported from.")
    source_digest = models.CharField(max_length=64, blank=True)
    is_published = models.BooleanField(default=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("courses:course", args=[self.slug])


class Module(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    position = models.PositiveIntegerField()
    is_archived = models.BooleanField(default=False, help_text="Removed from the content; kept for history.")

    class Meta:
        ordering = ["course", "position"]
        constraints = [models.UniqueConstraint(fields=["course", "slug"], name="module_slug_unique")]

    def __str__(self) -> str:
        return self.title


class Lesson(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons")
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    minutes = models.PositiveIntegerField(null=True, blank=True)
    position = models.PositiveIntegerField(help_text="Order within the module.")
    # Global order in the course (module position, then lesson position): prev/next and "continue".
    sequence = models.PositiveIntegerField(default=0)
    body_markdown = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    lab = models.ForeignKey(
        "labs.Lab",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lessons",
        help_text="The lab whose terminal this lesson's Run buttons type into.",
    )
    source_file = models.CharField(max_length=500, blank=True)
    is_archived = models.BooleanField(default=False, help_text="Removed from the content; kept for progress history.")

    class Meta:
        ordering = ["course", "sequence"]
        constraints = [models.UniqueConstraint(fields=["course", "slug"], name="lesson_slug_unique")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("courses:lesson", args=[self.course.slug, self.slug])


class LessonProgress(models.Model):
    """One row per (student, lesson) once the student opened it; done when completed_at is set."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Marked complete"
        LAB = "lab", "Lab tasks passed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_progress")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    started_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.CharField(max_length=16, choices=Source.choices, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "lesson"], name="progress_unique")]
        indexes = [models.Index(fields=["user", "-last_seen_at"])]
        verbose_name_plural = "lesson progress"

    def __str__(self) -> str:
        return f"{self.user} · {self.lesson}"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None
