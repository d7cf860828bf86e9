"""WebSocket routes (mounted by config/asgi.py behind origin and session-auth checks)."""

from django.urls import path

from labs import consumers

websocket_urlpatterns = [
    path("ws/labs/<slug:course_slug>/<slug:lab_slug>/status/", consumers.LabStatusConsumer.as_asgi()),
    path("ws/labs/<uuid:session_id>/terminal/", consumers.TerminalConsumer.as_asgi()),
]
