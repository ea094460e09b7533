"""The lab's SSH: its keys, the sshd configuration of each gateway, and the inventory that
reaches the gateways with them (hosts.yml, host_vars copied, group_vars for the lab).
"""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

from bandwidth.lab.runner import run_all
from bandwidth.lab.topology import SSH_PORT


def ensure_keys(ssh_dir: Path) -> str:
    """The lab's host key and client key (made once, then reused); returns the host public key."""
    jobs = []
    for name, comment in (("ssh_host_ed25519_key", "bandwidth-lab-host"), ("id_ed25519", "bandwidth-lab-client")):
        key = ssh_dir / name
        if not (key.is_file() and key.with_suffix(".pub").is_file()):
            for stale in (key, key.with_suffix(".pub")):
                stale.unlink(missing_ok=True)
            jobs.append((["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)], None))
    run_all(jobs)
    client = (ssh_dir / "id_ed25519.pub").read_text().strip()
    (ssh_dir / "authorized_keys").write_text(f'from="198.19.255.0/24" {client}\n')
    return " ".join((ssh_dir / "ssh_host_ed25519_key.pub").read_text().split()[:2])


def sshd_config(gw: dict, ssh_dir: Path) -> str:
    return f"""\
# bandwidth lab: sshd of {gw["name"]} in namespace {gw["namespace"]} (written by `bandwidth lab up`)
Port {SSH_PORT}
ListenAddress {gw["mgmt"]["address"]}
AddressFamily inet
HostKey {ssh_dir / "ssh_host_ed25519_key"}
AuthorizedKeysFile {ssh_dir / "authorized_keys"}
PidFile {gw["sshd"]["pid_file"]}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
X11Forwarding no
AllowAgentForwarding no
AllowTcpForwarding no
PermitTunnel no
MaxSessions 50
MaxStartups 50:30:100
Subsystem sftp internal-sftp
"""


def write_inventory(doc: dict, source: Path, target: Path) -> None:
    import yaml

    ssh = doc["ssh"]
    common = f"-F none -o IdentitiesOnly=yes -o UserKnownHostsFile={shlex.quote(ssh['known_hosts'])} -o StrictHostKeyChecking=yes"
    hosts = {
        gw["name"]: {
            "ansible_host": gw["mgmt"]["address"],
            "ansible_user": "root",
            "ansible_ssh_private_key_file": ssh["private_key"],
            "ansible_ssh_common_args": common,
            "ansible_python_interpreter": "/usr/bin/python3",
        }
        for gw in doc["gateways"]
    }
    header = f"# The lab's replica of {source} (written by `bandwidth lab up`; do not edit).\n"
    (target / "hosts.yml").write_text(header + yaml.safe_dump({"all": {"children": {"gateways": {"hosts": hosts}}}}, sort_keys=False, width=1000))
    host_vars = target / "host_vars"
    if host_vars.exists():
        shutil.rmtree(host_vars)
    host_vars.mkdir()
    for gw in doc["gateways"]:
        for ext in (".yml", ".yaml"):
            path = source / "host_vars" / f"{gw['name']}{ext}"
            if path.is_file():
                shutil.copyfile(path, host_vars / path.name)
                break
    (target / "group_vars").mkdir(exist_ok=True)
    (target / "group_vars" / "gateways.yml").write_text(
        "# Written by `bandwidth lab up`. The lab's kernel has no fq_codel; verify.yml measures with the lab's clients.\n"
        f"bandwidth_leaf_qdisc: pfifo\nbandwidth_lab_dir: {json.dumps(str(target.parent))}\n"
        "# Lab gateways share this machine's filesystem and systemd: each keeps its state in a folder of\n"
        "# its own, and the boot-restore unit is written there, never installed (`bandwidth lab reboot`).\n"
        f"bandwidth_state_dir: {json.dumps(str(target.parent / 'state') + '/{{ inventory_hostname }}')}\n"
        'bandwidth_restore_unit_dir: "{{ bandwidth_state_dir }}"\nbandwidth_restore_enable: false\n'
        "# The collector likewise: its unit is written there, and `bandwidth lab monitoring up` runs the installed\n"
        "# program in the gateway's namespace; its library is this machine's (make setup installs it).\n"
        'bandwidth_exporter_unit_dir: "{{ bandwidth_state_dir }}"\nbandwidth_exporter_service_enable: false\nbandwidth_exporter_packages: []\n'
    )
