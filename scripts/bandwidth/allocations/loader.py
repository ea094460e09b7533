"""Read the inventory and the request files into the data model, collecting every problem."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from pathlib import Path

from bandwidth import subnet
from bandwidth.allocations import inventory_files, validation, yamlsafe
from bandwidth.errors import UsageError
from bandwidth.model import Allocation, Gateway, Inventory, Problem, Rate, Uplink
from bandwidth.subnet import Subnet
from bandwidth.units import UnitError, mbps_to_kbit

ALLOCATION_SCHEMA = "allocation.schema.json"
GATEWAY_SCHEMA = "gateway.schema.json"
REQUEST_SUFFIX = ".yaml"

# Widest prefixes one agency may ask for: anything wider is almost surely a mistake.
MIN_PREFIX = {4: 16, 6: 48}


def read_limited(path: Path | str) -> bytes:
    """Read a regular file, refusing links, devices and anything over the size limit."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise yamlsafe.YamlError(1, "symbolic links are not allowed here")
    if not stat.S_ISREG(info.st_mode):
        raise yamlsafe.YamlError(1, "not a regular file")
    if info.st_size > yamlsafe.MAX_FILE_BYTES:
        raise yamlsafe.YamlError(1, f"file is {info.st_size} bytes; the limit is {yamlsafe.MAX_FILE_BYTES}")
    with open(path, "rb") as handle:
        return handle.read(yamlsafe.MAX_FILE_BYTES + 1)


def git_blob_sha(data: bytes) -> str:
    """The id git gives these bytes, to compare with a base commit without asking git."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _parse_document(rel: str, data: bytes, schema: str, problems: list, rule: str = "schema"):
    """Parse and validate one file; returns the Document, or None when it is unusable."""
    try:
        doc = yamlsafe.load(data)
    except yamlsafe.YamlError as exc:
        problems.append(Problem(rel, exc.line, exc.message, rule="yaml"))
        return None
    for line, message in doc.problems:
        problems.append(Problem(rel, line, message, rule="yaml"))
    before = len(problems)
    for line, message in validation.validate(schema, doc.value, doc.line):
        problems.append(Problem(rel, line, message, rule=rule))
    return doc if len(problems) == before and not doc.problems else None


def parse_network(text: str, min_prefix: dict | None = MIN_PREFIX) -> Subnet:
    """An agency or LAN network, strictly: no host bits, no default route, nothing special-purpose."""
    net = subnet.parse(text)
    if net.prefixlen == 0:
        raise ValueError(f"{text} is a default route, not an agency network")
    if min_prefix and net.prefixlen < min_prefix[net.version]:
        raise ValueError(f"{text} is too large: IPv{net.version} networks must be /{min_prefix[net.version]} or smaller")
    if subnet.is_special_fast(net):
        raise ValueError(f"{text} is a multicast, loopback, link-local or unspecified range")
    return net


def _rate(rel: str, doc, direction: str, problems: list) -> Rate | None:
    kbit = {}
    for key in ("guaranteed_mbps", "max_mbps"):
        path = (direction, key)
        try:
            kbit[key] = mbps_to_kbit(doc.numbers.get(path, doc.value[direction][key]))
        except UnitError as exc:
            problems.append(Problem(rel, doc.line(path), f"{direction}.{key}: {exc}"))
    if len(kbit) < 2:
        return None
    if kbit["guaranteed_mbps"] > kbit["max_mbps"]:
        problems.append(
            Problem(
                rel,
                doc.line((direction, "guaranteed_mbps")),
                f"{direction}: guaranteed_mbps ({doc.value[direction]['guaranteed_mbps']}) is more than max_mbps ({doc.value[direction]['max_mbps']})",
                rule="rates",
            )
        )
        return None
    return Rate(kbit["guaranteed_mbps"], kbit["max_mbps"])


def parse_allocation(rel: str, data: bytes) -> tuple[Allocation | None, list[Problem]]:
    """One request file to an Allocation. Problems come back; nothing is raised."""
    problems: list[Problem] = []
    doc = _parse_document(rel, data, ALLOCATION_SCHEMA, problems)
    if doc is None:
        return None, problems
    v = doc.value
    parts = rel.split("/")
    stem = parts[-1][: -len(REQUEST_SUFFIX)]
    if v["id"] != stem:
        problems.append(Problem(rel, doc.line(("id",)), f"id {v['id']} does not match the file name {parts[-1]} (expected {stem})", rule="naming"))
    if len(parts) >= 2 and v["gateway"] != parts[-2]:
        problems.append(Problem(rel, doc.line(("gateway",)), f"gateway {v['gateway']} does not match the folder {parts[-2]}/ the file is in", rule="naming"))

    dates = {}
    for key, path in (("start", ("start",)), ("end", ("end",)), ("letter", ("letter", "date"))):
        text = v.get(path[0]) if len(path) == 1 else v["letter"]["date"]
        if text is not None:
            dates[key] = dt.date.fromisoformat(text)
    if "end" in dates and dates["end"] < dates["start"]:
        problems.append(Problem(rel, doc.line(("end",)), f"end {v['end']} is before start {v['start']}", rule="dates"))

    subnets = []
    for index, text in enumerate(v["subnets"]):
        try:
            net = parse_network(text)
        except ValueError as exc:
            problems.append(Problem(rel, doc.line(("subnets", index)), f"subnets: {exc}", rule="subnets"))
            continue
        for other in subnets:
            if net.overlaps(other):
                problems.append(Problem(rel, doc.line(("subnets", index)), f"subnets: {net} overlaps {other} listed in the same file", rule="subnets"))
        subnets.append(net)

    download = _rate(rel, doc, "download", problems)
    upload = _rate(rel, doc, "upload", problems)
    if problems:
        return None, problems
    contact = v["contact"]
    return Allocation(
        id=v["id"],
        agency=v["agency"],
        letter_number=v["letter"]["number"],
        letter_date=dates["letter"],
        contact_name=contact["name"],
        contact_email=contact["email"],
        contact_github=contact.get("github"),
        gateway=v["gateway"],
        uplink=v["uplink"],
        subnets=tuple(subnets),
        download=download,
        upload=upload,
        priority=v["priority"],
        start=dates["start"],
        end=dates.get("end"),
        purpose=v["purpose"],
        path=rel,
        lines=doc.lines,
    ), problems


def scan_allocations(root: Path, folder: str = "allocations") -> tuple[list[tuple[str, str]], list[Problem]]:
    """Every file under allocations/, as (relative path, path); anything misplaced is a problem."""
    found, problems = [], []
    base = root / folder
    if not base.is_dir():
        return found, problems
    for gateway_entry in sorted(os.scandir(base), key=lambda e: e.name):
        rel_dir = f"{folder}/{gateway_entry.name}"
        if not gateway_entry.is_dir(follow_symlinks=False):
            problems.append(Problem(rel_dir, 1, f"stray file: requests go in {folder}/<gateway>/<id>{REQUEST_SUFFIX}", rule="naming"))
            continue
        for entry in sorted(os.scandir(gateway_entry.path), key=lambda e: e.name):
            rel = f"{rel_dir}/{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                problems.append(Problem(rel, 1, f"unexpected folder: requests go in {folder}/<gateway>/<id>{REQUEST_SUFFIX}", rule="naming"))
            elif not entry.name.endswith(REQUEST_SUFFIX) or entry.name.startswith("."):
                hint = f" (rename it to {entry.name.rsplit('.', 1)[0]}{REQUEST_SUFFIX})" if entry.name.endswith(".yml") else ""
                problems.append(Problem(rel, 1, f"stray file: only <id>{REQUEST_SUFFIX} request files belong here{hint}", rule="naming"))
            else:
                found.append((rel, entry.path))
    return found, problems


PARALLEL_FROM = 2000  # files; below this, starting a worker costs more than it saves
PARALLEL_CHUNK = 250


def load_allocations(root: Path) -> tuple[list[Allocation], list[Problem], dict[str, str], int]:
    """All request files: allocations, problems, git blob id per path, and how many files were read."""
    files, problems = scan_allocations(root)
    workers = int(os.environ.get("BANDWIDTH_PROCESSES") or min(os.cpu_count() or 1, 8)) - 1
    if len(files) < PARALLEL_FROM or workers < 1:
        allocations, found, blobs = _load_files(files)
        return allocations, problems + found, blobs, len(files)
    chunks = [files[i : i + PARALLEL_CHUNK] for i in range(0, len(files), PARALLEL_CHUNK)]
    allocations, blobs = [], {}
    for part, found, part_blobs in _parse_in_parallel(chunks, workers):
        allocations += part
        problems += found
        blobs.update(part_blobs)
    return allocations, problems, blobs, len(files)


def _parse_in_parallel(chunks: list, workers: int) -> list:
    """Parse chunks in this process and in forked workers, which take the next chunk from a
    shared counter so that all finish together; results come back in chunk order."""
    import multiprocessing
    import queue as queue_module

    context = multiprocessing.get_context("fork")
    counter = context.Value("i", 0)
    results = context.Queue()
    processes = [context.Process(target=_parse_worker, args=(chunks, counter, results), daemon=True) for _ in range(workers)]
    for process in processes:
        process.start()
    done: dict[int, tuple] = {}
    for index in _take_chunks(counter, len(chunks)):
        done[index] = _load_files(chunks[index])
    finished = 0
    while finished < workers:
        try:
            item = results.get(timeout=1)
        except queue_module.Empty:
            if not all(p.is_alive() for p in processes) and results.empty():
                raise RuntimeError("a parsing worker died") from None
            continue
        if item is None:
            finished += 1
        elif isinstance(item, BaseException):
            raise item
        else:
            done[item[0]] = item[1]
    for process in processes:
        process.join()
    return [done[index] for index in range(len(chunks))]


def _take_chunks(counter, total: int):
    while True:
        with counter.get_lock():
            index = counter.value
            counter.value += 1
        if index >= total:
            return
        yield index


def _parse_worker(chunks, counter, results) -> None:
    try:
        for index in _take_chunks(counter, len(chunks)):
            results.put((index, _load_files(chunks[index])))
    except BaseException as exc:  # reported, not swallowed: the parent raises it
        results.put(exc)
    results.put(None)
    results.close()
    results.join_thread()


def _load_files(files: list[tuple[str, str]]) -> tuple[list[Allocation], list[Problem], dict[str, str]]:
    allocations, problems, blobs = [], [], {}
    for rel, path in files:
        try:
            data = read_limited(path)
        except yamlsafe.YamlError as exc:
            problems.append(Problem(rel, exc.line, exc.message, rule="yaml"))
            continue
        except OSError as exc:
            problems.append(Problem(rel, 1, f"cannot read: {exc.strerror}", rule="yaml"))
            continue
        blobs[rel] = git_blob_sha(data)
        allocation, found = parse_allocation(rel, data)
        problems.extend(found)
        if allocation is not None:
            allocations.append(allocation)
    return allocations, problems, blobs


def _find_group_hosts(tree, group: str):
    """Hosts of `group` in a YAML inventory, including those of its child groups."""
    if not isinstance(tree, dict):
        return None
    for name, body in tree.items():
        if not isinstance(body, dict):
            continue
        if name == group:
            hosts = dict(body.get("hosts") or {})
            for child in body.get("children") or {}:
                hosts.update(_find_group_hosts({child: body["children"][child]}, child) or {})
            return hosts
        nested = _find_group_hosts(body.get("children") or {}, group)
        if nested is not None:
            return nested
    return None


def load_inventory(root: Path, inventory_dir: str) -> tuple[Inventory, list[Problem]]:
    """The gateways of an Ansible YAML inventory with their bandwidth_* host_vars."""
    inv = root / inventory_dir
    hosts_file = next((inv / n for n in ("hosts.yml", "hosts.yaml") if (inv / n).is_file()), None)
    if hosts_file is None:
        raise UsageError(f"{inventory_dir}: no hosts.yml inventory found")
    problems: list[Problem] = []
    rel_hosts = os.path.relpath(hosts_file, root)
    try:
        doc = yamlsafe.load(read_limited(hosts_file))
    except yamlsafe.YamlError as exc:
        problems.append(Problem(rel_hosts, exc.line, exc.message, rule="inventory"))
        return Inventory(inventory_dir, {}), problems
    strict = inventory_files.is_strict(root, inv)
    if strict:
        problems += inventory_files.hosts_problems(rel_hosts, doc)
    hosts = _find_group_hosts(doc.value, "gateways")
    if not hosts:
        problems.append(Problem(rel_hosts, 1, "the inventory has no hosts in group 'gateways'", rule="inventory"))
        return Inventory(inventory_dir, {}), problems
    gateways = {}
    read = [hosts_file]
    for name, host_vars in hosts.items():
        gateway = _load_gateway(root, inv, name, host_vars if isinstance(host_vars, dict) else {}, problems, read)
        if gateway is not None:
            gateways[name] = gateway
    if strict:
        problems += inventory_files.file_problems(root, inv, read)
    return Inventory(inventory_dir, gateways), problems


def _load_gateway(root: Path, inv: Path, name: str, inline_vars: dict, problems: list, read: list[Path]) -> Gateway | None:
    vars_file = next((inv / "host_vars" / f"{name}{ext}" for ext in (".yml", ".yaml") if (inv / "host_vars" / f"{name}{ext}").is_file()), None)
    if vars_file is None:
        problems.append(Problem(os.path.relpath(inv, root) + "/hosts.yml", 1, f"gateway {name} has no host_vars/{name}.yml", rule="inventory"))
        return None
    read.append(vars_file)
    rel = os.path.relpath(vars_file, root)
    try:
        data = read_limited(vars_file)
    except yamlsafe.YamlError as exc:
        problems.append(Problem(rel, exc.line, exc.message, rule="inventory"))
        return None
    before = len(problems)
    doc = _parse_document(rel, data, GATEWAY_SCHEMA, problems, rule="inventory")
    problems[before:] = [inventory_files.explain(p) for p in problems[before:]]
    if doc is None:
        return None
    v = doc.value
    ok = True
    lan_networks = []
    for index, text in enumerate(v["bandwidth_lan_networks"]):
        try:
            lan_networks.append(parse_network(text, min_prefix=None))
        except ValueError as exc:
            problems.append(Problem(rel, doc.line(("bandwidth_lan_networks", index)), str(exc), rule="inventory"))
            ok = False
    uplinks: dict[str, Uplink] = {}
    interfaces: dict[str, str] = {}
    for index, item in enumerate(v["bandwidth_uplinks"]):
        line = doc.line(("bandwidth_uplinks", index))
        if item["name"] in uplinks:
            problems.append(Problem(rel, line, f"uplink {item['name']} is defined twice", rule="inventory"))
            ok = False
            continue
        if item["lan_interface"] in interfaces:
            problems.append(Problem(rel, line, f"uplinks {interfaces[item['lan_interface']]} and {item['name']} share lan_interface {item['lan_interface']}", rule="inventory"))
            ok = False
        interfaces[item["lan_interface"]] = item["name"]
        try:
            down = mbps_to_kbit(doc.numbers.get(("bandwidth_uplinks", index, "download_mbps"), item["download_mbps"]))
            up = mbps_to_kbit(doc.numbers.get(("bandwidth_uplinks", index, "upload_mbps"), item["upload_mbps"]))
        except UnitError as exc:
            problems.append(Problem(rel, line, str(exc), rule="inventory"))
            ok = False
            continue
        uplinks[item["name"]] = Uplink(item["name"], down, up, item["reserve_percent"], item["lan_interface"], item.get("ifb_interface"), line)
    if not ok:
        return None
    merged = {**inline_vars, **v}
    return Gateway(name, tuple(lan_networks), uplinks, rel, merged)
