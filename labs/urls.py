from django.urls import path

from labs import views

app_name = "labs"
urlpatterns = [
    path("session/<uuid:session_id>/", views.session_status, name="session"),
    path("session/<uuid:session_id>/observe/", views.session_observe, name="observe"),
    path("recordings/<int:recording_id>/", views.recording_detail, name="recording"),
    path("recordings/<int:recording_id>.cast", views.recording_cast, name="recording-cast"),
    path("session/<uuid:session_id>/<str:action>", views.session_action, name="session-action"),
    path("<slug:course_slug>/<slug:lab_slug>/", views.lab_detail, name="lab"),
    path("<slug:course_slug>/<slug:lab_slug>/start", views.lab_start, name="start"),
]
