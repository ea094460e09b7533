"""`bandwidth monitoring-config`: Prometheus' and Alertmanager's files from the inventory and the settings,
through the real command, held to promtool and amtool; monitoring/settings.example.yml held to the defaults.

The gateways the tests expect are read here from the inventory's hosts.yml, independently of the command.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bandwidth.monitoring import alertmanager, prometheus_config, rules
from conftest import BANDWIDTH, ROOT

PROMTOOL, AMTOOL = "/usr/bin/promtool", "/usr/bin/amtool"
EXAMPLE = ROOT / "monitoring" / "settings.example.yml"
PRODUCTION = ROOT / "inventory" / "production"
FILES = ["prometheus.yml", "targets/bandwidth.json", "bandwidth.rules.yml", "alertmanager.yml"]
EXPORTER_PORT = 9469


# ---- helpers ----


def monitoring_config(*args: str) -> subprocess.CompletedProcess:
    """The real command, from the repository root (where --inventory inventory/production resolves)."""
    return subprocess.run([BANDWIDTH, "monitoring-config", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


def generate(out: Path, inventory: Path = PRODUCTION, settings: Path | None = None) -> dict[str, str]:
    """Run the command and return what it wrote: relative path -> text."""
    done = monitoring_config("--inventory", str(inventory), "--output-dir", str(out), *(["--settings", str(settings)] if settings else []))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(out / rel) for rel in FILES]
    return written(out)


def written(folder: Path) -> dict[str, str]:
    """Every file under folder (hidden ones too: a temporary left behind counts): relative path -> text."""
    return {path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8") for path in sorted(folder.rglob("*")) if path.is_file()}


def gateways_in(inventory: Path) -> dict[str, str]:
    """gateway -> ansible_host, read straight from hosts.yml."""
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())["all"]["children"]["gateways"]["hosts"]
    return {name: fields["ansible_host"] for name, fields in hosts.items()}


def targets_of(files: dict[str, str]) -> dict[str, str]:
    """gateway label -> target of the file_sd file; one target per group and one group per gateway."""
    groups = json.loads(files["targets/bandwidth.json"])
    assert all(len(group["targets"]) == 1 and set(group["labels"]) == {"gateway"} for group in groups), groups
    found = {group["labels"]["gateway"]: group["targets"][0] for group in groups}
    assert len(found) == len(groups), groups
    return found


def copy_inventory(tmp_path: Path) -> Path:
    return Path(shutil.copytree(PRODUCTION, tmp_path / "inventory"))


def set_hosts(inventory: Path, hosts: dict) -> None:
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"gateways": {"hosts": hosts}}}}))


def tool(*argv: str) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"{argv}:\n{done.stdout}\n{done.stderr}"
    return done


def assert_refused(done: subprocess.CompletedProcess, *names: str) -> str:
    """A usage error (exit 2): one `bandwidth: error:` message naming each of `names`, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.startswith("bandwidth: error: "), done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stdout == "", done.stdout
    for name in names:
        assert name in done.stderr, (name, done.stderr)
    return done.stderr


# ---- the targets come from the inventory ----


def test_the_targets_are_the_gateways_of_the_production_inventory(tmp_path: Path):
    expected = gateways_in(PRODUCTION)
    assert len(expected) >= 2, expected  # the test means something only with gateways to find
    done = monitoring_config("--inventory", "inventory/production", "--output-dir", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    files = written(tmp_path / "out")
    assert sorted(files) == sorted(FILES)
    assert targets_of(files) == {name: f"{address}:{EXPORTER_PORT}" for name, address in expected.items()}
    prometheus = yaml.safe_load(files["prometheus.yml"])
    (job,) = prometheus["scrape_configs"]
    assert job["job_name"] == "bandwidth"  # the rules' up{job="bandwidth"}
    assert job["honor_labels"] is True
    assert job["file_sd_configs"] == [{"files": ["targets/bandwidth.json"], "refresh_interval": "1m"}]
    assert prometheus["rule_files"] == ["bandwidth.rules.yml"]
    assert "remote_write" not in prometheus


def test_a_gateway_added_to_hosts_yml_is_a_target_after_the_next_run(tmp_path: Path):
    inventory, out = copy_inventory(tmp_path), tmp_path / "out"
    before = targets_of(generate(out, inventory))
    assert "gw-tenggarong" not in before
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())["all"]["children"]["gateways"]["hosts"]
    hosts["gw-tenggarong"] = {"ansible_host": "198.18.255.77"}
    set_hosts(inventory, hosts)

    after = targets_of(generate(out, inventory))
    assert after == {**before, "gw-tenggarong": f"198.18.255.77:{EXPORTER_PORT}"}
    assert after == {name: f"{address}:{EXPORTER_PORT}" for name, address in gateways_in(inventory).items()}
    assert sorted(written(out)) == sorted(FILES)  # rewritten in place, no temporary left


def test_an_ipv6_management_address_is_bracketed_in_the_target(tmp_path: Path):
    inventory = copy_inventory(tmp_path)
    set_hosts(inventory, {"gw-v6": {"ansible_host": "2001:DB8:ff:0::1"}, "gw-v4": {"ansible_host": "198.18.255.1"}})
    settings = tmp_path / "settings.yml"
    settings.write_text("prometheus:\n  exporter_port: 9500\n  alertmanager: '[::1]:9093'\n")
    files = generate(tmp_path / "out", inventory, settings)
    assert targets_of(files) == {"gw-v6": "[2001:db8:ff::1]:9500", "gw-v4": "198.18.255.1:9500"}
    assert yaml.safe_load(files["prometheus.yml"])["alerting"]["alertmanagers"] == [{"static_configs": [{"targets": ["[::1]:9093"]}]}]
    tool(PROMTOOL, "check", "config", str(tmp_path / "out" / "prometheus.yml"))


# ---- the files pass Prometheus' and Alertmanager's own checks ----


def test_the_files_pass_promtool_and_amtool(tmp_path: Path):
    out = tmp_path / "out"
    generate(out)
    # From another folder: prometheus.yml finds its rules and targets beside itself.
    checked = tool(PROMTOOL, "check", "config", str(out / "prometheus.yml"))
    assert "bandwidth.rules.yml" in checked.stdout + checked.stderr  # the rule file was checked too
    tool(PROMTOOL, "check", "rules", "--lint=all", "--lint-fatal", str(out / "bandwidth.rules.yml"))
    tool(AMTOOL, "check-config", str(out / "alertmanager.yml"))

    # The check reads the targets file: a broken one fails it, so passing above means something.
    (out / "targets" / "bandwidth.json").write_text('[{"targets": ')
    broken = subprocess.run([PROMTOOL, "check", "config", str(out / "prometheus.yml")], capture_output=True, text=True, timeout=60, check=False)
    assert broken.returncode != 0, broken.stdout


def test_remote_write_url_from_the_example_is_written_and_passes_promtool(tmp_path: Path):
    (url,) = re.findall(r"^\s*#\s*remote_write_url:\s*(\S+)\s*$", EXAMPLE.read_text(), re.M)
    settings = tmp_path / "settings.yml"
    settings.write_text(yaml.safe_dump({"prometheus": {"remote_write_url": url}}))
    out = tmp_path / "out"
    files = generate(out, settings=settings)
    assert yaml.safe_load(files["prometheus.yml"])["remote_write"] == [{"url": url}]
    tool(PROMTOOL, "check", "config", str(out / "prometheus.yml"))


# ---- monitoring/settings.example.yml ----


def test_the_example_settings_are_every_default_and_render_as_no_settings(tmp_path: Path):
    example = yaml.safe_load(EXAMPLE.read_text())
    assert example == {"prometheus": prometheus_config.DEFAULTS, "rules": rules.DEFAULTS, "alertmanager": alertmanager.DEFAULTS}
    assert generate(tmp_path / "with", settings=EXAMPLE) == generate(tmp_path / "without")


def test_every_setting_of_the_example_has_its_comment():
    lines = EXAMPLE.read_text().splitlines()
    keys = [(number, line) for number, line in enumerate(lines) if re.match(r"  [a-z_]+:", line)]
    assert len(keys) == len(prometheus_config.DEFAULTS) + len(rules.DEFAULTS) + len(alertmanager.DEFAULTS)
    for number, line in keys:
        assert re.match(r"  # \S", lines[number - 1]), f"line {number + 1} ({line.strip()}) has no comment line above it"


# ---- a wrong settings file: exit 2, one message naming file and key, nothing written ----


@pytest.mark.parametrize(
    ("text", "names"),
    [
        pytest.param("prometheus:\n  scrape_interval: 15s\nrules:\n\tat_maximum_days: 5\n", [":4: not YAML"], id="not-yaml"),
        pytest.param("- prometheus\n", [":1:", "prometheus, rules, alertmanager"], id="not-a-mapping"),
        pytest.param("prometheus:\n  scrape_interval: 15s\ngrafana: {}\n", [":3:", "unknown section 'grafana'"], id="unknown-section"),
        pytest.param("rules: [at_maximum_days]\n", [":1:", "section rules"], id="section-not-a-mapping"),
        pytest.param("prometheus:\n  scrape_intervall: 15s\n", [":2:", "prometheus.scrape_intervall", "scrape_interval"], id="unknown-prometheus-key"),
        pytest.param("rules:\n  at_maximum_days: 5\n  at_max_ratio: 0.8\n", [":3:", "rules.at_max_ratio", "at_maximum_ratio"], id="unknown-rules-key"),
        pytest.param("alertmanager:\n\n  smtp_password: rahasia\n", [":3:", "alertmanager.smtp_password", "smtp_auth_password_file"], id="unknown-alertmanager-key"),
        pytest.param("prometheus:\n  scrape_interval: 15 seconds\n", ["prometheus.scrape_interval", "'15 seconds'"], id="bad-duration-words"),
        pytest.param("prometheus:\n  evaluation_interval: 15s1m\n", ["prometheus.evaluation_interval", "'15s1m'"], id="bad-duration-order"),  # promtool refuses it
        pytest.param("prometheus:\n  scrape_interval: 0s\n", ["prometheus.scrape_interval"], id="zero-interval"),  # Prometheus would put 1m in silently
        pytest.param("prometheus:\n  scrape_interval: 10s\n  scrape_timeout: 20s\n", ["prometheus.scrape_timeout", "scrape_interval"], id="timeout-over-interval"),
        pytest.param("rules:\n  shaping_lost_for: 15 menit\n", ["shaping_lost_for", "'15 menit'"], id="bad-rules-duration"),
        pytest.param("alertmanager:\n  group_wait: soon\n", ["group_wait", "'soon'"], id="bad-alertmanager-duration"),
        pytest.param("prometheus:\n  exporter_port: 70000\n", ["prometheus.exporter_port", "70000"], id="port-out-of-range"),
        pytest.param("prometheus:\n  exporter_port: 9469a\n", ["prometheus.exporter_port", "'9469a'"], id="port-not-a-number"),
        pytest.param("prometheus:\n  alertmanager: 127.0.0.1:99999\n", ["prometheus.alertmanager", "99999"], id="alertmanager-port"),
        pytest.param("alertmanager:\n  smtp_smarthost: mail.example.go.id\n", ["smtp_smarthost"], id="smarthost-without-port"),
        pytest.param("prometheus:\n  remote_write_url: http://mimir%zz/push\n", ["prometheus.remote_write_url", "%"], id="url-bad-escape"),  # promtool refuses it
        pytest.param("prometheus:\n  remote_write_url: https://user:rahasia@mimir/push\n", ["prometheus.remote_write_url", "login"], id="url-with-login"),
    ],
)
def test_a_wrong_settings_file_is_refused_and_nothing_is_written(tmp_path: Path, text: str, names: list[str]):
    settings = tmp_path / "settings.yml"
    settings.write_text(text)
    out = tmp_path / "out"
    done = monitoring_config("--inventory", "inventory/production", "--settings", str(settings), "--output-dir", str(out))
    message = assert_refused(done, *names)
    assert message.startswith(f"bandwidth: error: {settings}"), message  # the file first, then line or key
    assert message.count("\n") == 1, message
    assert not out.exists()  # not even the folder: nothing is written before everything rendered


def test_a_settings_file_that_does_not_exist_is_named(tmp_path: Path):
    missing = tmp_path / "nowhere.yml"
    assert_refused(monitoring_config("--settings", str(missing), "--output-dir", str(tmp_path / "out")), f"{missing}: cannot read")
    assert not (tmp_path / "out").exists()


def test_a_failing_run_leaves_the_files_of_the_last_good_run_as_they_were(tmp_path: Path):
    out = tmp_path / "out"
    before = generate(out)
    settings = tmp_path / "settings.yml"
    # A wrong setting of the part rendered last, and then a wrong inventory, read after every setting.
    settings.write_text("prometheus:\n  scrape_interval: 1m\nalertmanager:\n  kasi_emails: [bukan-alamat]\n")
    assert_refused(monitoring_config("--settings", str(settings), "--output-dir", str(out)), str(settings), "kasi_emails")
    inventory = copy_inventory(tmp_path)
    set_hosts(inventory, {"gw-samarinda": {"ansible_host": "198.18.255.1"}, "gw-kutai": {"ansible_host": "gw-kutai.lan"}})
    assert_refused(monitoring_config("--inventory", str(inventory), "--output-dir", str(out)), str(inventory / "hosts.yml"), "gw-kutai")
    assert written(out) == before


# ---- a wrong inventory: exit 2, the file named ----


@pytest.mark.parametrize(
    ("hosts", "names"),
    [
        pytest.param({"gw-samarinda": {"ansible_host": "gw-samarinda.diskominfo.lan"}}, ["gw-samarinda", "'gw-samarinda.diskominfo.lan'", "not an IP address"], id="host-name"),
        pytest.param({"gw-samarinda": {"ansible_host": "198.18.255.256"}}, ["gw-samarinda", "not an IP address"], id="bad-ipv4"),
        pytest.param({"gw-samarinda": {}}, ["gw-samarinda", "ansible_host None"], id="no-ansible-host"),
        pytest.param({}, ["no hosts"], id="no-gateways"),
        pytest.param({"gw-a": {"ansible_host": "198.18.255.1"}, "gw-b": {"ansible_host": "198.18.255.1"}}, ["gw-a", "gw-b", "same ansible_host"], id="same-address"),
    ],
)
def test_a_wrong_hosts_yml_is_refused_naming_it(tmp_path: Path, hosts: dict, names: list[str]):
    inventory = copy_inventory(tmp_path)
    set_hosts(inventory, hosts)
    done = monitoring_config("--inventory", str(inventory), "--output-dir", str(tmp_path / "out"))
    assert_refused(done, f"{inventory / 'hosts.yml'}: ", *names)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("text", "names"),
    [
        pytest.param(None, ["cannot read"], id="missing"),
        pytest.param("all:\n  children: [gateways]\n", ["no hosts"], id="wrong-shape"),
        pytest.param("all:\n  children:\n    gateways:\n      hosts:\n\tgw-a: {}\n", [":5:", "not YAML"], id="not-yaml"),
    ],
)
def test_a_missing_or_broken_hosts_yml_is_named(tmp_path: Path, text: str | None, names: list[str]):
    inventory = copy_inventory(tmp_path)
    if text is None:
        (inventory / "hosts.yml").unlink()
    else:
        (inventory / "hosts.yml").write_text(text)
    done = monitoring_config("--inventory", str(inventory), "--output-dir", str(tmp_path / "out"))
    assert_refused(done, str(inventory / "hosts.yml"), *names)
    assert not (tmp_path / "out").exists()


# ---- the output folder cannot be written ----


def test_an_output_folder_that_cannot_be_written_changes_nothing(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "prometheus.yml").write_text("# the previous configuration\n")
    (out / "targets").write_text("a file where the targets folder goes\n")
    done = monitoring_config("--output-dir", str(out))
    assert_refused(done, str(out / "targets"), "cannot write")
    assert written(out) == {"prometheus.yml": "# the previous configuration\n", "targets": "a file where the targets folder goes\n"}

    a_file = tmp_path / "a-file"
    a_file.write_text("")
    assert_refused(monitoring_config("--output-dir", str(a_file)), str(a_file), "cannot write")
