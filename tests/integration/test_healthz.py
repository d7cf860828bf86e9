import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.docker]


def test_healthz_all_up(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["down"] == []
    assert set(body["checks"]) == {"database", "redis", "docker:default"}
    assert body["checks"]["docker:default"]["api_version"]


def test_healthz_names_what_is_down(client, settings):
    settings.BERTH_DOCKER_URL = "unix:///nonexistent/docker.sock"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["redis", "docker:default"]
    assert body["checks"]["database"]["ok"] is True
