from django.contrib import admin

from courses.models import Course, Lesson, LessonProgress, Module


class ModuleInline(admin.TabularInline):
    model = Module
    extra = 0
    fields = ["position", "slug", "title", "is_archived"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "is_published", "imported_at"]
    readonly_fields = ["source_path", "source_digest", "imported_at"]
    inlines = [ModuleInline]


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "position", "is_archived"]
    list_filter = ["course"]


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ["title", "module", "sequence", "lab", "is_archived"]
    list_filter = ["course", "module", "is_archived"]
    search_fields = ["title", "slug"]
    readonly_fields = ["body_html", "source_file"]


@admin.register(LessonProgress)
class LessonProgressAdmin(admin.ModelAdmin):
    list_display = ["user", "lesson", "started_at", "completed_at", "completed_by"]
    list_filter = ["completed_by", "lesson__course"]
    search_fields = ["user__username", "lesson__title"]
    raw_id_fields = ["user", "lesson"]
