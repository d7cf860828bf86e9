from django.urls import path

from courses import views

app_name = "courses"
urlpatterns = [
    path("<slug:course_slug>/", views.course_detail, name="course"),
    path("<slug:course_slug>/<slug:lesson_slug>/", views.lesson_detail, name="lesson"),
    path("<slug:course_slug>/<slug:lesson_slug>/progress", views.lesson_mark, name="lesson-mark"),
]
