"""What a Docker lab container gets for the gateway (labs.runtime.spec): its gateway folder at
/run/berth, read-only, and low ports for the port forwarders in its own network namespace."""

from labs.runtime.spec import GATEWAY_MOUNT, SandboxSpec, container_config


def spec(**kwargs):
    base = dict(
        name="berth-lab-x",
        image="berth/lab-docker:1",
        labels={},
        memory_bytes=1 << 30,
        cpus=1.0,
        pids_limit=512,
        disk_bytes=1 << 28,
    )
    base.update(kwargs)
    return SandboxSpec(**base)


def test_docker_lab_gets_its_folder_and_low_ports():
    config = container_config(
        spec(network="berth-lab-x-net", gateway_dir="/srv/gateway/abc", cgroup_parent="/berth/b/abc")
    )
    assert config["volumes"] == {"/srv/gateway/abc": {"bind": GATEWAY_MOUNT, "mode": "ro"}}
    assert config["sysctls"] == {"net.ipv4.ip_unprivileged_port_start": "0"}
    assert config["cap_drop"] == ["ALL"] and config["security_opt"] == ["no-new-privileges"]


def test_other_labs_are_unchanged():
    config = container_config(spec())
    assert "volumes" not in config and "sysctls" not in config and config["network_mode"] == "none"
    gvisor = container_config(spec(network="n", gateway_dir="/g", runtime="runsc"))
    assert "sysctls" not in gvisor and gvisor["runtime"] == "runsc"
