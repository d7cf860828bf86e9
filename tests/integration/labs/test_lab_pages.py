"""Lab page, session actions over HTTP, the status WebSocket, and who may do what."""

import pytest
from channels.testing.websocket import WebsocketCommunicator
from django.core.management import call_command
from django.urls import reverse

from config.asgi import application
from labs.models import LabSession
from tests import factories

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_lab_page_and_start_stop_over_http(client, lab_env):
    alice = lab_env["alice"]
    client.force_login(alice)
    page = client.get(reverse("labs:lab", args=["mini", "first"]))
    assert page.status_code == 200 and "First lab" in page.content.decode()
    response = client.post(reverse("labs:start", args=["mini", "first"]), HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    session = response.json()["session"]
    assert session["state"] == "running" and session["extensions_left"] == 1
    response = client.post(
        reverse("labs:session-action", args=[session["id"], "extend"]), HTTP_ACCEPT="application/json"
    )
    assert response.json()["session"]["extensions_left"] == 0
    response = client.post(
        reverse("labs:session-action", args=[session["id"], "extend"]), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 409 and "cannot be extended" in response.json()["error"]
    response = client.post(reverse("labs:session-action", args=[session["id"], "stop"]), HTTP_ACCEPT="application/json")
    assert response.json()["session"]["state"] == "stopping"  # the container is removed by a task
    assert LabSession.objects.get(pk=session["id"]).state == "stopped"


def test_another_student_cannot_see_stop_or_extend(client, lab_env):
    alice, bob = lab_env["alice"], lab_env["bob"]
    client.force_login(alice)
    session_id = client.post(reverse("labs:start", args=["mini", "first"]), HTTP_ACCEPT="application/json").json()[
        "session"
    ]["id"]
    client.force_login(bob)
    for action in ("stop", "extend", "reset"):
        assert client.post(reverse("labs:session-action", args=[session_id, action])).status_code == 404
    assert client.get(reverse("labs:session", args=[session_id])).status_code == 404
    # indistinguishable from a session that does not exist
    assert (
        client.post(reverse("labs:session-action", args=["4e7f2a7e-0000-4000-8000-000000000000", "stop"])).status_code
        == 404
    )
    assert LabSession.objects.get(pk=session_id).state == "running"


def test_lab_of_a_course_you_are_not_in_is_404(client, lab_env):
    outsider = factories.make_user("outsider")
    client.force_login(outsider)
    assert client.get(reverse("labs:lab", args=["mini", "first"])).status_code == 404
    assert client.post(reverse("labs:start", args=["mini", "first"])).status_code == 404


@pytest.mark.asyncio
async def test_status_socket_pushes_state_changes(lab_env):
    from asgiref.sync import sync_to_async

    from labs import services

    alice, lab = lab_env["alice"], lab_env["lab"]
    # Without a session cookie the user is anonymous: refused with 4404.
    communicator = WebsocketCommunicator(
        application, "/ws/labs/mini/first/status/", headers=[(b"origin", b"http://127.0.0.1")]
    )
    connected, code = await communicator.connect()
    assert not connected and code == 4404

    from django.test import Client

    web = Client()
    await sync_to_async(web.force_login)(alice)
    cookie = f"sessionid={web.cookies['sessionid'].value}".encode()
    communicator = WebsocketCommunicator(
        application, "/ws/labs/mini/first/status/", headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect()
    assert connected
    first = await communicator.receive_json_from(timeout=5)
    assert first == {"type": "session", "session": None}
    await sync_to_async(services.lab_session_start)(user=alice, lab=lab)
    states = []
    while not states or states[-1] != "running":
        message = await communicator.receive_json_from(timeout=20)
        states.append(message["session"]["state"])
    assert states[0] == "requested" and "provisioning" in states
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_status_socket_refuses_foreign_origin_and_strangers(lab_env):
    from asgiref.sync import sync_to_async
    from django.test import Client

    outsider = await sync_to_async(factories.make_user)("stranger")
    web = Client()
    await sync_to_async(web.force_login)(outsider)
    cookie = f"sessionid={web.cookies['sessionid'].value}".encode()
    communicator = WebsocketCommunicator(
        application, "/ws/labs/mini/first/status/", headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie)]
    )
    connected, code = await communicator.connect()
    assert not connected and code == 4404
    await sync_to_async(web.force_login)(lab_env["alice"])
    cookie = f"sessionid={web.cookies['sessionid'].value}".encode()
    communicator = WebsocketCommunicator(
        application, "/ws/labs/mini/first/status/", headers=[(b"origin", b"https://evil.example"), (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect()
    assert not connected


def test_operator_command_start_list_stop(lab_env, capsys):
    call_command("labs", "start", "--user", "alice", "--lab", "mini/first")
    out = capsys.readouterr().out
    assert "running: session" in out
    session = LabSession.objects.get(user=lab_env["alice"])
    assert session.container_id in out
    call_command("labs", "list")
    assert session.short_id in capsys.readouterr().out
    call_command("labs", "stop", session.short_id)
    session.refresh_from_db()
    assert session.state == "stopped"
    call_command("labs", "reconcile")
    assert "0 removed" in capsys.readouterr().out
