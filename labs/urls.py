from django.urls import path

from labs import views

app_name = "labs"
urlpatterns = [
    path("session/<uuid:session_id>/", views.session_status, name="session"),
    path("session/<uuid:session_id>/observe/", views.session_observe, name="observe"),
    path("recordings/<int:recording_id>/", views.recording_detail, name="recording"),
    path("recordings/<int:recording_id>.cast", views.recording_cast, name="recording-cast"),
    path("session/<uuid:session_id>/tasks/<slug:task_slug>/check", views.task_check, name="task-check"),
    path("session/<uuid:session_id>/submit", views.session_submit, name="submit"),
    path("session/<uuid:session_id>/<str:action>", views.session_action, name="session-action"),
    path("<slug:course_slug>/<slug:lab_slug>/tasks/<slug:task_slug>/hint", views.task_hint, name="task-hint"),
    path(
        "<slug:course_slug>/<slug:lab_slug>/tasks/<slug:task_slug>/solution", views.task_solution, name="task-solution"
    ),
    path("<slug:course_slug>/<slug:lab_slug>/", views.lab_detail, name="lab"),
    path("<slug:course_slug>/<slug:lab_slug>/start", views.lab_start, name="start"),
]
