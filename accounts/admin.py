from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts import services
from accounts.models import Cohort, Invite, Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "is_active", "joined_at", "deactivated_at"]
    readonly_fields = ["joined_at", "deactivated_at"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + (("Berth", {"fields": ("full_name",)}),)
    list_display = ["username", "full_name", "email", "is_staff", "is_active", "last_login"]
    search_fields = ["username", "full_name", "email"]


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ["name", "course", "starts_on", "ends_on", "join_code", "join_code_enabled", "student_count"]
    list_filter = ["course"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]

    @admin.display(description="students")
    def student_count(self, obj):
        return obj.memberships.filter(role=Membership.Role.STUDENT, is_active=True).count()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "cohort", "role", "is_active", "joined_at"]
    list_filter = ["role", "is_active", "cohort"]
    search_fields = ["user__username", "user__full_name", "user__email", "cohort__name"]
    autocomplete_fields = ["user", "cohort"]
    actions = ["deactivate"]

    @admin.action(description="Deactivate (keeps history)")
    def deactivate(self, request, queryset):
        for membership in queryset:
            services.membership_deactivate(membership=membership)


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ["cohort", "role", "token", "expires_at", "uses", "max_uses", "revoked"]
    list_filter = ["cohort", "role", "revoked"]
    readonly_fields = ["token", "uses", "created_at", "created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
