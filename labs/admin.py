from django.contrib import admin, messages

from labs import services
from labs.errors import LabError
from labs.models import (
    AuditEntry,
    DockerHost,
    Lab,
    LabSession,
    LabSessionEvent,
    Recording,
    Review,
    Submission,
    SubmissionFile,
    Task,
    TaskAttempt,
    TaskProgress,
)
from labs.runtime.spec import RELAXABLE


@admin.register(DockerHost)
class DockerHostAdmin(admin.ModelAdmin):
    list_display = ["name", "base_url", "capacity", "enabled", "healthy", "last_checked_at", "engine_version"]
    list_editable = ["capacity", "enabled"]
    readonly_fields = ["healthy", "last_checked_at", "last_error", "engine_version", "runtimes"]


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0
    fields = ["position", "slug", "title", "points", "timeout_seconds", "is_archived"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(Lab)
class LabAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "course",
        "image",
        "docker_enabled",
        "memory_mb",
        "cpus",
        "pids_limit",
        "ttl_minutes",
        "hardening",
    ]
    list_filter = ["course", "docker_enabled", "is_archived"]
    readonly_fields = ["relaxed_hardening", "source_dir"]
    inlines = [TaskInline]

    @admin.display(description="memory")
    def memory_mb(self, obj):
        return f"{obj.memory_bytes // 1024**2} MiB"

    @admin.display(description="TTL")
    def ttl_minutes(self, obj):
        return f"{obj.ttl_seconds // 60} min"

    @admin.display(description="hardening")
    def hardening(self, obj):
        return "relaxed: " + ", ".join(obj.relax) if obj.relax else "full"

    @admin.display(description="Relaxed hardening defaults")
    def relaxed_hardening(self, obj):
        if not obj.relax:
            return "None: every hardening default applies."
        return "; ".join(f"{name}: {RELAXABLE.get(name, '?')}" for name in obj.relax)


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["slug", "title", "lab", "position", "points"]
    list_filter = ["lab"]


class EventInline(admin.TabularInline):
    model = LabSessionEvent
    extra = 0
    can_delete = False
    fields = ["at", "action", "from_state", "to_state", "actor", "reason"]
    readonly_fields = fields


@admin.register(LabSession)
class LabSessionAdmin(admin.ModelAdmin):
    list_display = ["short_id", "user", "lab", "state", "host", "requested_at", "expires_at", "extensions_used"]
    list_filter = ["state", "lab", "host"]
    search_fields = ["id", "user__username", "container_id"]
    readonly_fields = [f.name for f in LabSession._meta.fields]
    inlines = [EventInline]
    actions = ["stop_sessions"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Stop selected sessions (removes their containers)")
    def stop_sessions(self, request, queryset):
        stopped = 0
        for session in queryset.filter(state__in=LabSession.LIVE_STATES):
            try:
                services.lab_session_stop(
                    session=session, actor=request.user, reason=f"stopped by admin {request.user}"
                )
                stopped += 1
            except LabError as exc:
                self.message_user(request, f"{session.short_id}: {exc}", messages.WARNING)
        self.message_user(request, f"Stopping {stopped} session(s).")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TaskAttempt)
class TaskAttemptAdmin(ReadOnlyAdmin):
    list_display = ["session", "task", "kind", "passed", "errored", "duration_ms", "created_at"]
    list_filter = ["passed", "errored", "kind"]


@admin.register(TaskProgress)
class TaskProgressAdmin(ReadOnlyAdmin):
    list_display = ["user", "task", "passed_at", "hints_revealed", "solution_revealed_at", "attempts"]


@admin.register(Recording)
class RecordingAdmin(ReadOnlyAdmin):
    list_display = ["session", "tab", "started_at", "ended_at", "size_bytes", "truncated"]


class SubmissionFileInline(admin.TabularInline):
    model = SubmissionFile
    extra = 0
    can_delete = False
    fields = ["path", "size_bytes", "truncated", "missing"]
    readonly_fields = fields


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ["lab", "user", "version", "auto_points", "total_points", "created_at"]
    list_filter = ["lab"]
    inlines = [SubmissionFileInline]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["submission", "grader", "points", "graded_at", "seen_at"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "target_type", "target_id", "cohort"]
    list_filter = ["action", "target_type"]
