from django.urls import path

from labs import review_views

app_name = "teach"
urlpatterns = [
    path("", review_views.teach_home, name="home"),
    path("reviews/", review_views.review_queue, name="reviews"),
    path("submissions/<int:submission_id>/", review_views.submission_detail, name="submission"),
    path("cohorts/<slug:cohort_slug>/grades.csv", review_views.grades_csv, name="grades-csv"),
]
