#!/usr/bin/env python3
"""Benchmark driver for scripts/bench.sh (run that, not this: it builds, installs and isolates).

Starts the acr-testbed through the `bench_bed` example, times acr-doctor (and, when given, the
Azure CLI's `az acr check-health`) with hyperfine against it at several round-trip latencies,
and writes a JSON file of raw numbers plus a Markdown summary.

Nothing here may reach beyond loopback: the whole run lives in a private network namespace made by
bench.sh, where only `lo` exists and the bed answers DNS; it refuses to run anywhere else.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SCENARIOS = [
    # id, fault for the bed, registry name, expected primary cause (None: healthy), handshakes
    # (False: the round-trip time delays every response, the latency knob; True: each new
    # connection also pays one round trip for TCP's handshake and one for TLS's)
    ("healthy", None, "contosoreg", None, False),
    ("public-access-disabled", "public-access-disabled", "contosoreg", "CONNECTIVITY_FORBIDDEN_ERROR", False),
    ("dns-failure", None, "nosuchreg", "CONNECTIVITY_DNS_ERROR", False),
    ("sp-secret-expired", "sp-secret-expired", "contosoreg", None, False),
    ("healthy+handshakes", None, "contosoreg", None, True),
    ("public-access-disabled+handshakes", "public-access-disabled", "contosoreg",
     "CONNECTIVITY_FORBIDDEN_ERROR", True),
]
# The scenarios the Azure CLI runs at every latency once signed in to the bed.
AZ_SIGNED_IN = [(sid, fault, hs) for sid, fault, _n, _e, hs in SCENARIOS
                if sid.split("+")[0] in ("healthy", "public-access-disabled")]


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


class Bed:
    """One bench_bed process, driven over its standard input."""

    def __init__(self, exe, extra):
        self.proc = subprocess.Popen(
            [exe] + extra,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("bench_bed exited before it was ready")
        self.hello = json.loads(line)

    def cmd(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if answer.startswith("error"):
            raise RuntimeError(f"bench_bed: {line}: {answer}")
        return answer

    def scenario(self, fault, latency, handshakes=False):
        self.cmd(f"handshakes {'on' if handshakes else 'off'}")
        self.cmd(f"latency {latency}")
        self.cmd("reset")
        if fault:
            self.cmd(f"fault {fault}")

    def cpu_s(self):
        """CPU seconds (user + system) the bed process has used so far."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def requests(self):
        return json.loads(self.cmd("log"))["requests"]

    def connections(self):
        """Connections accepted since the last clear-log, as 'listener[/host]': count."""
        return {
            (c["listener"] + (f"/{c['host']}" if c["host"] else "")): c["count"]
            for c in json.loads(self.cmd("log")).get("connections", [])
        }

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - best effort, then kill our own child
            self.proc.kill()
            self.proc.wait()


def hyperfine(cmds, env, runs, warmup, names=None, timeout=1800):
    """Times each command (a list of argv lists); returns hyperfine's results list."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = tmp.name
    argv = ["hyperfine", "-N", "-i", "--style", "none", "--runs", str(runs),
            "--warmup", str(warmup), "--export-json", out]
    for i, c in enumerate(cmds):
        if names:
            argv += ["--command-name", names[i]]
    argv += [" ".join(quote(a) for a in c) for c in cmds]
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, timeout=timeout)
    with open(out) as f:
        data = json.load(f)["results"]
    os.unlink(out)
    return data


def quote(arg):
    if re.fullmatch(r"[A-Za-z0-9_./:=@,+-]+", arg):
        return arg
    return "'" + arg.replace("'", "'\"'\"'") + "'"


def peak_rss_kb(argv, env):
    """Maximum resident set size of one run, as /usr/bin/time -v reports it."""
    r = subprocess.run(["/usr/bin/time", "-v"] + argv, env=env, capture_output=True, text=True)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    return int(m.group(1)) if m else None


def median_ms(result):
    return result["median"] * 1000.0


class Doctor:
    def __init__(self, exe, bed, home):
        self.exe = exe
        self.bed = bed
        h = bed.hello
        self.env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "AZURE_CONFIG_DIR": os.path.join(home, "azure-empty"),
            "DOCKER_HOST": "unix:///nonexistent/docker.sock",
            "DOCKER_CONFIG": os.path.join(home, "docker-empty"),
            "NO_COLOR": "1",
            "LANG": "C.UTF-8",
        }
        self.env.update(h["env"])
        self.env.update(h["sp_env"])

    def argv(self, names, extra=()):
        if isinstance(names, str):
            names = [names]
        argv = [self.exe, "check"]
        for n in names:
            argv += ["--name", n]
        argv += ["--ca-file", self.bed.hello["ca_file"]]
        return argv + list(extra)

    def probe(self, name):
        """One verbose JSON run: exit code, run status, findings, checks, trace lines, requests."""
        self.bed.cmd("clear-log")
        t0 = time.monotonic()
        r = subprocess.run(self.argv(name, ["-v", "--output", "json"]), env=self.env,
                           capture_output=True, text=True, timeout=600)
        wall = (time.monotonic() - t0) * 1000.0
        requests = self.bed.requests()
        connections = self.bed.connections()
        try:
            report = json.loads(r.stdout)
        except json.JSONDecodeError:
            report = {}
        trace = [l for l in r.stderr.splitlines() if l.startswith("* ")]
        return {
            "exit": r.returncode,
            "wall_ms": round(wall, 1),
            "status": report.get("status"),
            "duration_ms": report.get("duration_ms"),
            "findings": [f.get("code") for f in report.get("findings", [])],
            "checks": [
                {"id": c.get("id"), "status": c.get("status"), "duration_ms": c.get("duration_ms")}
                for c in report.get("checks", [])
            ],
            "trace": trace,
            "bed_requests": [
                f'{q["listener"]} {q["method"]} {q["path"]} -> {q["status"]}' for q in requests
            ],
            "connections": connections,
            "stderr_tail": r.stderr.splitlines()[-5:] if r.returncode not in (0, 1) else [],
        }


class Az:
    """The Azure CLI from a throwaway virtual environment, pointed at the bed only."""

    def __init__(self, exe, bed, home):
        self.exe = exe
        self.bed = bed
        self.cfg = tempfile.mkdtemp(prefix="azcfg-", dir=home)
        h = bed.hello
        self.env = {
            "PATH": os.path.dirname(exe) + ":/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "AZURE_CONFIG_DIR": self.cfg,
            "AZURE_EXTENSION_DIR": os.path.join(self.cfg, "cliextensions"),
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_DISABLE_CONFIRM_PROMPT": "true",
            "AZURE_CORE_SURVEY_MESSAGE": "false",
            "AZURE_CORE_NO_COLOR": "true",
            "AZURE_CORE_INSTANCE_DISCOVERY": "false",
            "REQUESTS_CA_BUNDLE": h["ca_file"],
            "DOCKER_HOST": "unix:///nonexistent/docker.sock",
            "LANG": "C.UTF-8",
        }
        arm = h["arm_endpoint"].rstrip("/") + "/"
        with open(os.path.join(self.cfg, "clouds.config"), "w") as f:
            f.write(
                "[BenchCloud]\n"
                f"endpoint_resource_manager = {arm}\n"
                f"endpoint_active_directory = {h['authority_host']}\n"
                "endpoint_active_directory_resource_id = https://management.core.windows.net/\n"
                f"endpoint_management = {arm}\n"
                f"endpoint_microsoft_graph_resource_id = {h['graph_endpoint'].rstrip('/')}/\n"
                "suffix_acr_login_server_endpoint = .azurecr.io\n"
                "profile = latest\n"
            )
        with open(os.path.join(self.cfg, "config"), "w") as f:
            f.write("[cloud]\nname = BenchCloud\n\n[core]\ncollect_telemetry = no\n"
                    "instance_discovery = false\nsurvey_message = no\n")
        self.logged_in = False
        self.login_error = None

    def argv(self, name=None):
        argv = [self.exe, "acr", "check-health", "--ignore-errors", "--yes"]
        if name:
            argv += ["-n", name]
        return argv

    def login(self):
        h = self.bed.hello
        secret = self.bed_secret()
        r = subprocess.run(
            [self.exe, "login", "--service-principal", "-u", h["sp_app_id"], "-p", secret,
             "--tenant", h["tenant"], "--output", "none"],
            env=self.env, capture_output=True, text=True, timeout=300)
        if r.returncode == 0:
            self.logged_in = True
        else:
            self.login_error = r.stderr.strip().splitlines()[-3:]
        return self.logged_in

    def bed_secret(self):
        return self.bed.hello["sp_env"]["AZURE_CLIENT_SECRET"]

    def probe(self, name=None):
        t0 = time.monotonic()
        self.bed.cmd("clear-log")
        r = subprocess.run(self.argv(name), env=self.env, capture_output=True, text=True,
                           timeout=600)
        wall = (time.monotonic() - t0) * 1000.0
        lines = [l for l in (r.stdout + "\n" + r.stderr).splitlines() if l.strip()]
        requests = self.bed.requests()
        connections = self.bed.connections()
        return {
            "exit": r.returncode,
            "wall_ms": round(wall, 1),
            "connections": connections,
            "output": [l for l in lines if "aka.ms" not in l][:40],
            "bed_requests": [
                f'{q["listener"]} {q["method"]} {q["path"]} -> {q["status"]}' for q in requests
            ],
        }


def stats(result):
    return {
        "median_ms": round(result["median"] * 1000.0, 1),
        "mean_ms": round(result["mean"] * 1000.0, 1),
        "min_ms": round(result["min"] * 1000.0, 1),
        "max_ms": round(result["max"] * 1000.0, 1),
        "runs": len(result["times"]),
        "user_ms": round(result.get("user", 0) * 1000.0, 1),
        "system_ms": round(result.get("system", 0) * 1000.0, 1),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--doctor", required=True)
    p.add_argument("--bed", required=True)
    p.add_argument("--az", default=None)
    p.add_argument("--netns", action="store_true",
                   help="say that this runs inside a private network namespace (bench.sh does)")
    p.add_argument("--latencies", default="0,20,50,100")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--az-runs", type=int, default=3)
    p.add_argument("--fleet", type=int, default=50)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    if not a.netns:
        # Outside a private namespace a DNS question for a registry name could leave the machine.
        sys.exit("bench.py runs only inside the private network namespace that scripts/bench.sh makes")

    latencies = [int(x) for x in a.latencies.split(",") if x.strip()]
    home = tempfile.mkdtemp(prefix="acr-bench-")
    for d in ("azure-empty", "docker-empty"):
        os.makedirs(os.path.join(home, d), exist_ok=True)
    res = {
        "latencies_ms": latencies,
        "binary_size_bytes": os.path.getsize(a.doctor),
        "doctor_version": subprocess.run([a.doctor, "--version"], capture_output=True,
                                         text=True).stdout.strip(),
        "machine": {"nproc": os.cpu_count(),
                    "uname": " ".join(os.uname()[i] for i in (0, 2, 4))},
        "scenarios": {},
        "az": {},
        "notes": [],
    }
    scenarios = SCENARIOS

    # Cold start.
    hf = hyperfine([[a.doctor, "--version"]], os.environ.copy(), runs=50, warmup=5)
    res["cold_start_version"] = stats(hf[0])
    log(f"cold start --version: {res['cold_start_version']['median_ms']} ms")

    # The service principal holds AcrPush and Reader: the registry side is healthy.
    bed_extra = ["--reader", "--dns", "--forward-443"]
    bed = Bed(a.bed, bed_extra)
    try:
        doc = Doctor(a.doctor, bed, home)
        # The check list, for the critical-path analysis.
        r = subprocess.run([a.doctor, "checks", "--output", "json"], capture_output=True,
                           text=True, env=doc.env)
        try:
            res["check_list"] = json.loads(r.stdout)
        except json.JSONDecodeError:
            r = subprocess.run([a.doctor, "checks"], capture_output=True, text=True, env=doc.env)
            res["check_list_text"] = r.stdout
        for sid, fault, name, _expected, handshakes in scenarios:
            res["scenarios"][sid] = {}
            for lat in latencies:
                bed.scenario(fault, lat, handshakes)
                probe = doc.probe(name)
                hf = hyperfine([doc.argv(name)], doc.env, runs=a.runs, warmup=1)
                entry = stats(hf[0])
                entry["probe"] = probe
                res["scenarios"][sid][str(lat)] = entry
                log(f"acr-doctor {sid} @ {lat} ms: {entry['median_ms']} ms "
                    f"(exit {probe['exit']}, {len(probe['bed_requests'])} requests, "
                    f"findings {probe['findings'][:3]})")

        # Peak memory of the healthy check at 50 ms (and at 0 ms).
        res["peak_rss_kb"] = {}
        for lat in (0, 50):
            bed.scenario(None, lat)
            res["peak_rss_kb"][str(lat)] = max(
                (peak_rss_kb(doc.argv("contosoreg"), doc.env) or 0) for _ in range(3))
        log(f"peak RSS: {res['peak_rss_kb']}")

        # The Azure CLI, side by side.
        if a.az:
            az = Az(a.az, bed, home)
            azres = res["az"]
            # Environment checks only (no registry) and a name that does not resolve.
            bed.scenario(None, 0)
            for sid, name in (("environment", None), ("dns-failure", "nosuchreg")):
                probe = az.probe(name)
                hf = hyperfine([az.argv(name)], az.env, runs=a.az_runs, warmup=1)
                azres[sid] = {"0": dict(stats(hf[0]), probe=probe)}
                log(f"az {sid}: {azres[sid]['0']['median_ms']} ms (exit {probe['exit']})")
            # acr-doctor's counterpart of the environment-only run.
            env_ids = [c["id"] for c in res.get("check_list", [])
                       if c.get("group") == "Environment"] or ["docker", "helm"]
            env_only = doc.argv("contosoreg", ["--only", ",".join(env_ids)])
            res["environment_only_checks"] = env_ids
            hf = hyperfine([env_only], doc.env, runs=a.runs, warmup=1)
            res["scenarios"]["environment-only"] = {"0": stats(hf[0])}
            # Signed in to the bed: healthy and public access disabled at every latency.
            bed.scenario(None, 0)
            if az.login():
                for sid, fault, handshakes in AZ_SIGNED_IN:
                    azres[sid] = {}
                    for lat in latencies:
                        bed.scenario(fault, lat, handshakes)
                        probe = az.probe("contosoreg")
                        hf = hyperfine([az.argv("contosoreg")], az.env, runs=a.az_runs, warmup=1)
                        azres[sid][str(lat)] = dict(stats(hf[0]), probe=probe)
                        log(f"az {sid} @ {lat} ms: {azres[sid][str(lat)]['median_ms']} ms")
                bed.scenario(None, 50)
                azres["peak_rss_kb_healthy_50"] = peak_rss_kb(az.argv("contosoreg"), az.env)
            else:
                res["notes"].append(f"az login against the bed failed: {az.login_error}")
                log(f"az login failed: {az.login_error}")
    finally:
        bed.close()

    # Fleet: N registries without docker-registry behind them, at 50 ms.
    if a.fleet > 1:
        fleet = Bed(a.bed, bed_extra + ["--registries", str(a.fleet), "--latency-ms", "50"])
        try:
            doc = Doctor(a.doctor, fleet, home)
            names = fleet.hello["names"]
            one = doc.argv(names[:1], ["--jobs", str(a.fleet)])
            many = doc.argv(names, ["--jobs", str(a.fleet)])
            probe = doc.probe(names[:1])
            hf = hyperfine([one, many], doc.env, runs=max(3, a.runs // 2), warmup=1,
                           names=["one", "fleet"])
            fleet.cmd("clear-log")
            bed_cpu = fleet.cpu_s()
            subprocess.run(many, env=doc.env, capture_output=True, timeout=600)
            bed_cpu = (fleet.cpu_s() - bed_cpu) if bed_cpu is not None else None
            fleet_requests = len(fleet.requests())
            res["fleet"] = {
                "registries": len(names),
                "latency_ms": 50,
                "one": stats(hf[0]),
                "fleet": stats(hf[1]),
                "one_probe_exit": probe["exit"],
                "one_requests": len(probe["bed_requests"]),
                "fleet_requests": fleet_requests,
                "fleet_bed_cpu_ms": round(bed_cpu * 1000.0) if bed_cpu is not None else None,
                "one_request_list": probe["bed_requests"],
                "fleet_peak_rss_kb": peak_rss_kb(many, doc.env),
            }
            log(f"fleet: one {res['fleet']['one']['median_ms']} ms, "
                f"{len(names)} {res['fleet']['fleet']['median_ms']} ms")
        finally:
            fleet.close()

    shutil.rmtree(home, ignore_errors=True)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)
    print(summary(res))


def critical_path(check_list, checks):
    """The chain of checks that bounds the run: each check starts when the providers of what it
    needs or uses are done, and takes the duration it took. Returns [(id, duration_ms)], first
    to last, and the finish time of the last one."""
    dur = {c["id"]: c.get("duration_ms") or 0 for c in checks}
    providers = {}
    for c in check_list:
        for f in c.get("provides", []):
            providers.setdefault(f, c["id"])
    deps = {
        c["id"]: [providers[f] for f in c.get("needs", []) + c.get("uses", [])
                  if f in providers and providers[f] != c["id"]]
        for c in check_list
    }
    finish, before = {}, {}

    def fin(cid, depth=0):
        if cid in finish:
            return finish[cid]
        if depth > 100:
            return 0
        start, prev = 0, None
        for d in deps.get(cid, []):
            t = fin(d, depth + 1)
            if t >= start:
                start, prev = t, d
        finish[cid] = start + dur.get(cid, 0)
        before[cid] = prev
        return finish[cid]

    for c in check_list:
        fin(c["id"])
    if not finish:
        return [], 0
    last = max(finish, key=finish.get)
    chain = []
    cur = last
    while cur:
        chain.append((cur, dur.get(cur, 0)))
        cur = before.get(cur)
    return list(reversed(chain)), finish[last]


def summary(res):
    """A Markdown summary of the numbers (what BENCHMARKS.md quotes)."""
    lats = res["latencies_ms"]
    out = []
    out.append(f"acr-doctor: {res['doctor_version']}; binary {res['binary_size_bytes'] / 1e6:.2f} MB; "
               f"cold start (--version) median {res['cold_start_version']['median_ms']} ms")
    if res.get("peak_rss_kb"):
        out.append("peak RSS of a healthy check: " + ", ".join(
            f"{v / 1024:.1f} MiB at {k} ms" for k, v in res["peak_rss_kb"].items()))
    out.append("")
    out.append("| scenario | " + " | ".join(f"{l} ms RTT" for l in lats)
               + f" | CPU at {lats[0]} ms | requests | exit |")
    out.append("|---|" + "---|" * len(lats) + "---|---|---|")
    for sid, per in res["scenarios"].items():
        if sid == "environment-only":
            continue
        cells = [f"{per[str(l)]['median_ms']:.0f} ms" if str(l) in per else "-" for l in lats]
        first = per[str(lats[0])]
        probe = first.get("probe", {})
        cpu = first.get("user_ms", 0) + first.get("system_ms", 0)
        out.append(f"| {sid} | " + " | ".join(cells)
                   + f" | {cpu:.0f} ms | {len(probe.get('bed_requests', []))} | {probe.get('exit')} |")
    h = res["scenarios"].get("healthy", {})
    if len(lats) > 1 and str(lats[0]) in h:
        base = h[str(lats[0])]["median_ms"]
        out.append("")
        out.append("healthy check, sequential round trips implied by the wall time "
                   "((wall(L) - wall(0)) / L): " + ", ".join(
                       f"{(h[str(l)]['median_ms'] - base) / l:.1f} at {l} ms"
                       for l in lats if l > 0 and str(l) in h))
        if "50" in h:
            out.append(f"healthy check at 50 ms in round trips of wall time: "
                       f"{h['50']['median_ms'] / 50:.1f} (target: under 6)")
        hh = res["scenarios"].get("healthy+handshakes", {})
        if "50" in hh and str(lats[0]) in hh:
            out.append(f"with handshakes: {(hh['50']['median_ms'] - hh[str(lats[0])]['median_ms']) / 50:.1f} "
                       f"sequential round trips, {hh['50']['median_ms'] / 50:.1f} of wall time at 50 ms "
                       f"(protocol minimum 6: TCP + TLS + the first request, exchange, token, one read)")
        top = str(max(lats))
        probe = h.get(top, {}).get("probe", {})
        if res.get("check_list") and probe.get("checks"):
            chain, total = critical_path(res["check_list"], probe["checks"])
            lat = max(lats) or 1
            out.append("")
            out.append(f"healthy check at {top} ms: critical path through the declared "
                       f"prerequisites ({total:.0f} ms of the report's {probe.get('duration_ms')} ms):")
            out.append("  " + " -> ".join(f"{cid} ({d:.0f} ms = {d / lat:.1f} RTT)"
                                           for cid, d in chain))
            slow = sorted(probe["checks"], key=lambda c: -(c.get("duration_ms") or 0))[:8]
            out.append("  slowest checks: " + ", ".join(
                f"{c['id']} {c.get('duration_ms')} ms ({c.get('status')})" for c in slow))
            out.append(f"  requests seen by the bed: {len(probe.get('bed_requests', []))}; "
                       f"lines in the -v trace: {len(probe.get('trace', []))}")
            out.append("  requests, in the order the bed answered them: "
                       + "; ".join(probe.get("bed_requests", [])))
            if probe.get("connections"):
                out.append("  connections the bed accepted: " + ", ".join(
                    f"{k} {v}" for k, v in sorted(probe["connections"].items())))
    az = res.get("az") or {}
    if az:
        out.append("")
        out.append("| scenario (az acr check-health vs acr-doctor) | RTT | az | acr-doctor | ratio |")
        out.append("|---|---|---|---|---|")
        pairs = [("environment", "environment-only"), ("dns-failure", "dns-failure")]
        pairs += [(sid, sid) for sid, _f, _h in AZ_SIGNED_IN]
        for azid, docid in pairs:
            for l, v in sorted((az.get(azid) or {}).items(), key=lambda kv: int(kv[0])):
                d = res["scenarios"].get(docid, {}).get(l)
                if not d:
                    continue
                out.append(f"| {azid} | {l} ms | {v['median_ms']:.0f} ms | {d['median_ms']:.0f} ms "
                           f"| {v['median_ms'] / d['median_ms']:.1f}x |")
        azh = (az.get("healthy") or {}).get("50", {}).get("probe", {})
        if azh.get("connections"):
            out.append("\naz connections the bed accepted (healthy, 50 ms): " + ", ".join(
                f"{k} {v}" for k, v in sorted(azh["connections"].items())))
        if az.get("peak_rss_kb_healthy_50"):
            out.append(f"\naz peak RSS (healthy, 50 ms): {az['peak_rss_kb_healthy_50'] / 1024:.1f} MiB")
    f = res.get("fleet")
    if f:
        out.append("")
        out.append(f"fleet at {f['latency_ms']} ms: 1 registry {f['one']['median_ms']:.0f} ms, "
                   f"{f['registries']} registries {f['fleet']['median_ms']:.0f} ms "
                   f"({f['fleet']['median_ms'] / f['one']['median_ms']:.2f}x; target under 2x); "
                   f"requests {f['one_requests']} vs {f['fleet_requests']}; "
                   f"fleet peak RSS {(f['fleet_peak_rss_kb'] or 0) / 1024:.1f} MiB; CPU of "
                   f"acr-doctor for the fleet {f['fleet'].get('user_ms', 0) + f['fleet'].get('system_ms', 0):.0f} ms "
                   f"(one registry: {f['one'].get('user_ms', 0) + f['one'].get('system_ms', 0):.0f} ms), "
                   f"of the bed serving it {f.get('fleet_bed_cpu_ms')} ms")
    for n in res["notes"]:
        out.append(f"\nnote: {n}")
    return "\n".join(out)


if __name__ == "__main__":
    main()
