"""A student's Docker, through the gateway: the CLI and Compose in a real lab session, as student.

One session for the module (docker_lab); each test cleans up what it made so the next one starts
from an empty private world.
"""

import json

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def clean_world(docker_lab):
    yield
    docker_lab.sh(
        "docker rm -f $(docker ps -aq) >/dev/null 2>&1; docker network prune -f >/dev/null 2>&1; "
        "docker volume prune -f >/dev/null 2>&1; docker image prune -af >/dev/null 2>&1; true",
        timeout=60,
    )


def test_socket_is_the_standard_one_and_usable_by_student(docker_lab):
    out = docker_lab.ok(
        "readlink /var/run/docker.sock; stat -c '%a %U' /run/berth/docker.sock; id -un; "
        "docker version --format '{{.Server.APIVersion}}'"
    )
    assert out.split() == ["/run/berth/docker.sock", "666", "root", "student", "1.41"]


def test_run_rm_busybox(docker_lab):
    assert docker_lab.ok("docker run --rm busybox echo hi").strip() == "hi"
    assert docker_lab.ok("docker ps -aq").strip() == ""  # --rm removed it


def test_run_with_published_port_answers_on_localhost(docker_lab):
    docker_lab.ok("docker run -d --name web -p 8080:80 nginx")
    assert "Welcome to nginx" in docker_lab.ok("curl -sf localhost:8080")
    # what the student asked for is what they see; the host publishes nothing
    assert docker_lab.ok("docker port web").strip() == "80/tcp -> 0.0.0.0:8080"
    assert "0.0.0.0:8080->80/tcp" in docker_lab.ok("docker ps --format '{{.Ports}} {{.Names}}'")
    host = docker_lab.backend.client.containers.get(f"{docker_lab.prefix}-web")
    assert host.attrs["HostConfig"]["PortBindings"] in ({}, None)
    assert host.attrs["NetworkSettings"]["Ports"] in ({"80/tcp": None}, {})
    # stopped: the forwarder goes away; started again: it comes back (new address or not)
    docker_lab.ok("docker stop -t 1 web")
    docker_lab.fails("curl -sf --max-time 2 localhost:8080")
    docker_lab.ok("docker start web")
    assert "Welcome to nginx" in docker_lab.ok("curl -sf localhost:8080")
    docker_lab.ok("docker restart -t 1 web")
    assert "Welcome to nginx" in docker_lab.ok("curl -sf localhost:8080")
    # -p with a random host port, and a port below 1024 inside the lab
    docker_lab.ok("docker run -d --name web2 -p 80 -p 81:80 nginx")
    port = docker_lab.ok("docker port web2 80/tcp").split()[0].rsplit(":", 1)[1]
    assert int(port) >= 32768
    assert "Welcome to nginx" in docker_lab.ok(f"curl -sf localhost:{port} && curl -sf localhost:81")
    # the same host port twice is refused the way Docker refuses it
    out = docker_lab.fails("docker run -d --name web3 -p 8080:80 nginx")
    assert "port is already allocated" in out
    # ... and so is a port a process of the student's own already listens on in the lab
    docker_lab.ok("setsid nohup python3 -m http.server 8097 >/dev/null 2>&1 < /dev/null & sleep 1")
    out = docker_lab.fails("docker run -d --name web4 -p 8097:80 nginx")
    assert "port is already allocated" in out
    docker_lab.sh("pkill -f 'http.server 8097'")


def test_attach_exec_logs_and_a_tty(docker_lab):
    assert docker_lab.ok("echo through-stdin | docker run -i --rm busybox cat").strip() == "through-stdin"
    # `docker run -it` needs a terminal: `script` gives the CLI one
    out = docker_lab.ok("script -qec \"docker run -it --rm busybox sh -c 'tty && echo in-a-tty'\" /dev/null")
    assert "/dev/pts/0" in out and "in-a-tty" in out
    docker_lab.ok("docker run -d --name ticker busybox sh -c 'while :; do echo tick; sleep 0.2; done'")
    assert docker_lab.ok("timeout 3 docker logs -f ticker | head -2").split() == ["tick", "tick"]
    assert docker_lab.ok("echo via-exec | docker exec -i ticker cat").strip() == "via-exec"
    assert "/dev/pts/0" in docker_lab.ok("script -qec 'docker exec -it ticker tty' /dev/null")
    docker_lab.ok("echo copied > /tmp/in && docker cp /tmp/in ticker:/in && docker cp ticker:/in /tmp/out")
    assert docker_lab.ok("cat /tmp/out").strip() == "copied"
    out = docker_lab.fails("docker cp nope:/x /tmp/")
    assert "No such container" in out


def test_build_tag_run_and_build_from_own_image(docker_lab):
    docker_lab.ok(
        "mkdir -p ~/app && cd ~/app && printf 'FROM busybox\\nRUN echo built > /built\\nCMD cat /built\\n' "
        "> Dockerfile && docker build -t myapp .",
        timeout=120,
    )
    assert docker_lab.ok("docker run --rm myapp").strip() == "built"
    out = docker_lab.ok(
        "cd ~/app && printf 'FROM myapp\\nCMD echo second; cat /built\\n' > Dockerfile.two && "
        "docker build -t myapp:two -f Dockerfile.two .",
        timeout=120,
    )
    assert "Successfully tagged myapp:two" in out and docker_lab.prefix not in out
    assert docker_lab.ok("docker run --rm myapp:two").split() == ["second", "built"]
    # multi-stage: stage names stay stage names
    docker_lab.ok(
        "cd ~/app && printf 'FROM busybox AS base\\nRUN echo one > /one\\nFROM myapp\\n"
        "COPY --from=base /one /one\\nCMD cat /one /built\\n' > Dockerfile.multi && "
        "docker build -q -t multi -f Dockerfile.multi .",
        timeout=120,
    )
    assert docker_lab.ok("docker run --rm multi").split() == ["one", "built"]
    listed = docker_lab.ok("docker images --format '{{.Repository}}:{{.Tag}}'").split()
    assert {"myapp:latest", "myapp:two", "multi:latest", "busybox:latest"} <= set(listed)
    assert not [name for name in listed if docker_lab.prefix in name]
    # on the host they live under the session's namespace, labelled
    image = docker_lab.backend.client.images.get(f"{docker_lab.prefix.lower()}/myapp:two")
    assert image.labels["org.berth.session"] == docker_lab.session_id
    # the build ran inside the lab's budget
    assert image.attrs["Config"]["Labels"].get("org.berth.platform-image") != "1"


def test_build_refuses_images_it_may_not_use(docker_lab):
    docker_lab.ok(
        "mkdir -p ~/bad && cd ~/bad && printf 'FROM alpine\\n' > Dockerfile.a && "
        "printf 'FROM berthtest-0123456789ab/secret\\n' > Dockerfile.b && "
        "printf 'ARG BASE=alpine\\nFROM $BASE\\n' > Dockerfile.c && "
        "printf 'FROM busybox\\nCOPY --from=redis:unknown /x /x\\n' > Dockerfile.d"
    )
    for name in "abcd":
        out = docker_lab.fails(f"cd ~/bad && docker build -f Dockerfile.{name} .")
        assert "this lab cannot download images" in out, out


def test_network_create_and_name_resolution(docker_lab):
    docker_lab.ok("docker network create appnet")
    docker_lab.ok("docker run -d --name db --network appnet busybox sleep 300")
    out = docker_lab.ok("docker run --rm --network appnet busybox ping -c1 -W2 db")
    assert "1 packets received" in out
    # containers on the default network resolve each other too, and the lab reaches them
    docker_lab.ok("docker run -d --name web -p 8090:80 --network appnet nginx")
    assert "Welcome to nginx" in docker_lab.ok("curl -sf localhost:8090")
    names = docker_lab.ok("docker network ls --format '{{.Name}}'").split()
    assert set(names) == {"appnet", "bridge", "host", "none"}
    net = docker_lab.backend.client.networks.get(f"{docker_lab.prefix}-appnet")
    assert net.attrs["Internal"] is True and net.attrs["Labels"]["org.berth.session"] == docker_lab.session_id
    inspected = json.loads(docker_lab.ok("docker network inspect appnet"))[0]
    assert inspected["Name"] == "appnet" and inspected["Internal"] is False
    assert {c["Name"] for c in inspected["Containers"].values()} == {"db", "web"}
    out = docker_lab.fails("docker network rm appnet")
    assert "active endpoints" in out
    docker_lab.ok("docker rm -f db web && docker network rm appnet")


def test_named_volume_survives_container_recreation(docker_lab):
    docker_lab.ok("docker run --rm -v data:/data busybox sh -c 'echo kept > /data/file'")
    assert docker_lab.ok("docker run --rm -v data:/data busybox cat /data/file").strip() == "kept"
    assert docker_lab.ok("docker volume ls --format '{{.Name}}'").split() == ["data"]
    volume = docker_lab.backend.client.volumes.get(f"{docker_lab.prefix}-data")
    assert volume.attrs["Labels"]["org.berth.session"] == docker_lab.session_id
    # anonymous volumes (redis declares VOLUME /data) are the session's too
    docker_lab.ok("docker run -d --name cache redis:7.0")
    anonymous = docker_lab.backend.client.volumes.list(filters={"label": f"org.berth.session={docker_lab.session_id}"})
    assert len(anonymous) == 2


def test_compose_up_ps_logs_down(docker_lab):
    compose = (
        'version: "3.8"\n'
        "services:\n"
        "  web:\n"
        "    image: nginx\n"
        "    ports: ['8088:80']\n"
        "    depends_on: [cache]\n"
        "  cache:\n"
        "    image: redis:7.0\n"
        "    volumes: ['data:/data']\n"
        "volumes:\n"
        "  data: {}\n"
    )
    docker_lab.ok(f"mkdir -p ~/proj && cat > ~/proj/docker-compose.yml <<'EOF'\n{compose}EOF")
    docker_lab.ok("cd ~/proj && docker compose up -d", timeout=120)
    ps = docker_lab.ok("cd ~/proj && docker compose ps")
    assert "proj" in ps and "web" in ps and "cache" in ps and ps.count("Up") == 2, ps
    assert "Welcome to nginx" in docker_lab.ok("curl -sf localhost:8088")
    assert "cache" in docker_lab.ok("cd ~/proj && docker compose exec -T web getent hosts cache")
    assert "Ready to accept connections" in docker_lab.ok("cd ~/proj && docker compose logs cache")
    assert "proj_default" in docker_lab.ok("docker network ls")
    docker_lab.ok("cd ~/proj && docker compose down -v", timeout=120)
    assert docker_lab.ok("docker ps -aq").strip() == ""
    assert docker_lab.ok("docker volume ls -q").strip() == ""
    assert "proj_default" not in docker_lab.ok("docker network ls")


def test_bind_mount_from_home_into_nginx(docker_lab):
    docker_lab.ok("mkdir -p ~/site && echo 'hello from my site' > ~/site/index.html")
    docker_lab.ok("docker run -d --name site -p 8081:80 -v ~/site:/usr/share/nginx/html:ro nginx")
    assert docker_lab.ok("curl -sf localhost:8081").strip() == "hello from my site"
    docker_lab.ok("echo changed > ~/site/index.html")  # it is the same directory, live
    assert docker_lab.ok("curl -sf localhost:8081").strip() == "changed"
    # --mount, a file, and /tmp
    docker_lab.ok("echo tmpfile > /tmp/note.txt")
    out = docker_lab.ok(
        "docker run --rm --mount type=bind,src=/tmp/note.txt,dst=/note.txt,readonly busybox cat /note.txt"
    )
    assert out.strip() == "tmpfile"
    # the student sees their own path, not the gateway's
    mounts = json.loads(docker_lab.ok("docker inspect -f '{{json .Mounts}}' site"))
    assert mounts[0]["Source"] == "/home/student/site"


def test_lists_show_only_the_sessions_objects(docker_lab):
    assert docker_lab.ok("docker ps -a -q").strip() == ""
    assert docker_lab.ok("docker volume ls -q").strip() == ""
    images = set(docker_lab.ok("docker images --format '{{.Repository}}:{{.Tag}}'").split())
    assert images <= set(docker_lab.policy["base_images"])
    info = json.loads(docker_lab.ok("docker info --format '{{json .}}'"))
    assert info["Name"] == "berth-lab" and info["Containers"] == 0 and not info["HttpProxy"]
    assert info["MemTotal"] == 1024**3


def test_refusals_have_clear_messages(docker_lab):
    docker_lab.ok("ln -sfn / ~/root-link && mkdir -p ~/deep && ln -sfn /etc ~/deep/etc")
    cases = {
        "docker run --rm --privileged busybox true": "privileged containers are not available",
        "docker run --rm --cap-add SYS_ADMIN busybox true": "--cap-add SYS_ADMIN is not available",
        "docker run --rm -v /:/host busybox true": "bind mounts are limited to your lab's home and /tmp",
        "docker run --rm -v ~/root-link:/host busybox ls /host": "symbolic link",
        "docker run --rm -v ~/deep/etc/passwd:/p busybox cat /p": "symbolic link",
        "docker run --rm --device /dev/kmsg busybox true": "devices are not available",
        "docker run --rm --pid host busybox true": "--pid=host is not available",
        "docker run --rm --network host busybox true": "--network host is not available",
        "docker run --rm --security-opt seccomp=unconfined busybox true": "seccomp=unconfined is not available",
        "docker run --rm --sysctl net.ipv4.ip_forward=1 busybox true": "sysctls are not available",
        "docker pull alpine": "this lab cannot download images",
        "docker run --rm alpine true": "this lab cannot download images",
        "docker rmi busybox": "cannot be removed",
        "docker push busybox": "pushing images is not available",
        "docker volume create -o type=none -o o=bind -o device=/etc etc": "volume driver options are not available",
    }
    for command, message in cases.items():
        out = docker_lab.fails(command)
        assert message in out, f"$ {command}\n{out}"
        assert docker_lab.prefix not in out
    assert docker_lab.ok("docker ps -aq").strip() == ""


def test_limits_are_forced_on_every_container(docker_lab):
    docker_lab.ok("docker run -d --name capped --restart always -m 4g busybox sleep 300")
    host = docker_lab.backend.client.containers.get(f"{docker_lab.prefix}-capped").attrs["HostConfig"]
    assert host["CgroupParent"] == docker_lab.policy["cgroup_parent"]
    assert host["Memory"] == host["MemorySwap"] == 1024**3
    assert host["PidsLimit"] == 512 and host["Privileged"] is False
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-file": "1", "max-size": "1m"}}
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 5}
    # what the student asked for is still what they see
    shown = json.loads(docker_lab.ok("docker inspect -f '{{json .HostConfig.RestartPolicy}}' capped"))
    assert shown["Name"] == "always"


def test_build_with_a_dockerfile_outside_the_context(docker_lab):
    # The CLI puts such a Dockerfile into the context under a generated name (.dockerfile.<hex>).
    docker_lab.ok(
        "mkdir -p ~/ctx ~/elsewhere && echo data > ~/ctx/data.txt && "
        "printf 'FROM busybox\\nCOPY data.txt /data.txt\\nCMD cat /data.txt\\n' > ~/elsewhere/Dockerfile.out && "
        "cd ~/ctx && timeout 60 docker build -t outside -f ~/elsewhere/Dockerfile.out .",
        timeout=90,
    )
    assert docker_lab.ok("docker run --rm outside").strip() == "data"
