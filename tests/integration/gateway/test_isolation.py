"""Two students, two private worlds: same names without collisions, nothing of the other visible or
reachable (not even by host id), and everything a session made removed when it ends."""

import docker
import pytest

from labs import services
from labs.models import LabSession

from .conftest import start_docker_lab, stop_docker_lab

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_labs(gateway, transactional_db):
    labs = [start_docker_lab(), start_docker_lab()]
    yield labs
    for lab in labs:
        if LabSession.objects.filter(pk=lab.session.pk, state__in=LabSession.LIVE_STATES).exists():
            stop_docker_lab(lab)


def test_same_names_do_not_collide_and_others_are_invisible(two_labs):
    alice, bob = two_labs
    alice.ok("docker run -d --name web -p 8080:80 nginx && docker volume create data && docker network create appnet")
    bob.ok(
        "mkdir -p ~/s && echo bob > ~/s/index.html && "
        "docker run -d --name web -p 8080:80 -v ~/s:/usr/share/nginx/html:ro nginx && "
        "docker volume create data && docker network create appnet"
    )
    assert "Welcome to nginx" in alice.ok("curl -sf localhost:8080")
    assert bob.ok("curl -sf localhost:8080").strip() == "bob"
    for lab in (alice, bob):
        assert lab.ok("docker ps -a --format '{{.Names}}'").split() == ["web"]
        assert lab.ok("docker volume ls -q").split() == ["data"]
        assert "appnet" in lab.ok("docker network ls --format '{{.Name}}'").split()

    # Alice's container by its host id (and id prefix) is not there for Bob
    alice_id = alice.ok("docker inspect -f '{{.Id}}' web").strip()
    for command in (
        f"docker container inspect {alice_id}",
        f"docker exec {alice_id} true",
        f"docker logs {alice_id}",
        f"docker stop {alice_id[:12]}",
        f"docker rm {alice_id}",
    ):
        out = bob.fails(command)
        assert "No such container" in out, f"$ {command}\n{out}"
    assert alice.ok("docker inspect -f '{{.State.Running}}' web").strip() == "true"

    # the same through the API (docker-py on Bob's socket)
    api = bob.client()
    try:
        assert [c.name for c in api.containers.list(all=True)] == ["web"]
        with pytest.raises(docker.errors.NotFound):
            api.containers.get(alice_id)
        with pytest.raises(docker.errors.NotFound):
            api.volumes.get(f"{alice.prefix}-data")
        with pytest.raises(docker.errors.NotFound):
            api.networks.get(f"{alice.prefix}-appnet")
        # an exec of Alice's cannot be started (or inspected) through Bob's socket
        exec_id = alice.client().api.exec_create(alice_id, ["true"])["Id"]
        with pytest.raises(docker.errors.NotFound):
            api.api.exec_inspect(exec_id)
        with pytest.raises(docker.errors.NotFound):
            api.api.exec_start(exec_id)
        # Bob cannot join Alice's namespaces or network either
        with pytest.raises(docker.errors.NotFound):
            api.containers.run("busybox", "true", network_mode=f"container:{alice_id}", remove=True)
        with pytest.raises(docker.errors.NotFound):
            api.containers.run("busybox", "true", volumes_from=[alice_id], remove=True)
    finally:
        api.close()

    # Alice's images are hers: Bob can neither use nor see them
    alice.ok(
        "mkdir -p ~/a && printf 'FROM busybox\\nCMD echo alice\\n' > ~/a/Dockerfile && docker build -q -t mine ~/a",
        timeout=120,
    )
    out = bob.fails(f"docker run --rm {alice.prefix.lower()}/mine:latest")
    assert "this lab cannot download images" in out
    assert "mine" not in bob.ok("docker images --format '{{.Repository}}'").split()


def test_ending_a_session_removes_everything_it_made(two_labs):
    alice, bob = two_labs
    bob.ok(
        "mkdir -p ~/site ~/app && echo hi > ~/site/index.html && "
        "printf 'FROM busybox\\nRUN echo x > /x\\n' > ~/app/Dockerfile && docker build -q -t app ~/app && "
        "docker tag busybox mybusybox && docker network create net1 && docker volume create vol1 && "
        "docker run -d --name web -p 8080:80 --network net1 -v ~/site:/usr/share/nginx/html -v vol1:/v nginx && "
        "docker run -d --name cache redis:7.0 && docker create --name idle app",
        timeout=120,
    )
    made = bob.host_objects()  # with the lab container and its network
    assert len(made["containers"]) == 4 and len(made["volumes"]) == 2 and len(made["networks"]) == 2
    assert f"{bob.prefix.lower()}/mybusybox:latest" in made["images"]
    stop_docker_lab(bob)  # asserts that nothing labelled (or tagged) with the session is left
    # Alice is untouched
    assert alice.ok("docker ps -aq").strip() == ""
    assert alice.sh("docker version").exit_code == 0


def test_reconciler_removes_what_a_vanished_session_made(two_labs):
    alice, bob = two_labs
    bob.ok(
        "docker network create net1 && docker volume create vol1 && "
        "docker run -d --name web --network net1 -v vol1:/v busybox sleep 600",
        timeout=60,
    )
    # the session ends without a teardown (a worker lost, say): only the reconciler can clean up
    LabSession.objects.filter(pk=bob.session.pk).update(state=LabSession.State.STOPPED)
    result = services.lab_sessions_reconcile()
    assert bob.session.container_name in result["removed"]
    left = bob.host_objects()
    assert not any(left.values()), left
    assert alice.ok("docker ps -q").strip() == ""
    # the folder is removed by a teardown; the gateway then closes the socket
    services.lab_session_teardown(session_id=bob.session.pk)
