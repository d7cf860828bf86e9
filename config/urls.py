from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from courses import views as course_views
from labs import views as lab_views

urlpatterns = [
    path("", course_views.catalog, name="catalog"),
    path("dashboard/", course_views.dashboard, name="dashboard"),
    path("healthz", lab_views.healthz, name="healthz"),
    path("people/<str:username>/progress/", course_views.student_progress, name="student-progress"),
    path("accounts/", include("accounts.urls")),
    path("courses/", include("courses.urls")),
    path("labs/", include("labs.urls")),
    path("teach/", include("config.teach_urls")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
