"""Pages for instructors and admins, under /teach/ (each view checks who may see what)."""

from django.urls import path

from accounts import teach_views as people
from courses import teach_views as progress
from labs import review_views as review
from labs import teach_views as live

app_name = "teach"
urlpatterns = [
    path("", review.teach_home, name="home"),
    path("capacity/", live.capacity, name="capacity"),
    path("reviews/", review.review_queue, name="reviews"),
    path("submissions/<int:submission_id>/", review.submission_detail, name="submission"),
    path("cohorts/new/", people.cohort_edit, name="cohort-new"),
    path("cohorts/<slug:cohort_slug>/edit/", people.cohort_edit, name="cohort-edit"),
    path("cohorts/<slug:cohort_slug>/people/", people.cohort_people, name="cohort-people"),
    path(
        "cohorts/<slug:cohort_slug>/people/<int:membership_id>/toggle",
        people.membership_toggle,
        name="membership-toggle",
    ),
    path("cohorts/<slug:cohort_slug>/invites/", people.invite_create, name="invite-create"),
    path("cohorts/<slug:cohort_slug>/invites/<int:invite_id>/revoke", people.invite_revoke, name="invite-revoke"),
    path("cohorts/<slug:cohort_slug>/enrol/", people.enrol, name="enrol"),
    path("cohorts/<slug:cohort_slug>/progress/", progress.heatmap, name="heatmap"),
    path("cohorts/<slug:cohort_slug>/progress.csv", progress.heatmap_csv, name="heatmap-csv"),
    path("cohorts/<slug:cohort_slug>/students/<str:username>/", progress.student_detail, name="student"),
    path("cohorts/<slug:cohort_slug>/live/", live.live_labs, name="live"),
    path("cohorts/<slug:cohort_slug>/live/stats.json", live.live_stats, name="live-stats"),
    path("cohorts/<slug:cohort_slug>/live/<uuid:session_id>/<str:action>", live.live_action, name="live-action"),
    path("cohorts/<slug:cohort_slug>/grades.csv", review.grades_csv, name="grades-csv"),
]
