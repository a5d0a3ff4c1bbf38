#!/usr/bin/env python3
"""Failing scenarios at one round-trip time, acr-doctor only (no Azure CLI): a lighter companion
of bench.py, run by scripts/bench-failures.sh inside a private network namespace.

For each scenario it starts a bench_bed, runs `acr-doctor check --repository app` once to record
the findings and the bed's requests, then RUNS more times for the wall time (median), and reports
the median divided by the round-trip time: the sequential round trips the run costs.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ARM_ONLY = "Container Registry Contributor and Data Access Configuration Administrator"
SCENARIOS = [
    # id, bench_bed arguments, expected primary code (None: healthy)
    ("healthy", ["--reader"], None),
    ("rbac-role-missing", ["--role", ARM_ONLY], "RBAC_ROLE_MISSING"),
    ("abac-legacy-role-ignored", ["--abac", "--reader"], "ABAC_LEGACY_ROLE_IGNORED"),
    ("public-access-disabled", ["--reader", "--fault", "public-access-disabled"],
     "CONNECTIVITY_FORBIDDEN_ERROR"),
    ("sp-secret-expired", ["--reader", "--fault", "sp-secret-expired"], "SP_SECRET_EXPIRED"),
]


def run_bed(exe, extra, rtt):
    proc = subprocess.Popen([exe, "--dns", "--forward-443"] + extra, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, bufsize=1)
    hello = json.loads(proc.stdout.readline())

    def cmd(line):
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        return proc.stdout.readline().strip()

    cmd(f"latency {rtt}")
    return proc, hello, cmd


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--doctor", action="append", required=True,
                   help="LABEL=PATH of an acr-doctor binary (repeatable: before/after)")
    p.add_argument("--bed", required=True)
    p.add_argument("--rtt", type=int, default=50)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--netns", action="store_true")
    a = p.parse_args()
    if not a.netns:
        sys.exit("failures.py runs only inside the private network namespace that "
                 "scripts/bench-failures.sh makes")
    home = tempfile.mkdtemp(prefix="acr-bench-")
    for d in ("azure-empty", "docker-empty"):
        os.makedirs(os.path.join(home, d), exist_ok=True)
    doctors = [d.split("=", 1) for d in a.doctor]
    rows = []
    for sid, extra, expected in SCENARIOS:
        proc, hello, cmd = run_bed(a.bed, extra, a.rtt)
        try:
            env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home,
                   "AZURE_CONFIG_DIR": os.path.join(home, "azure-empty"),
                   "DOCKER_HOST": "unix:///nonexistent/docker.sock",
                   "DOCKER_CONFIG": os.path.join(home, "docker-empty"),
                   "NO_COLOR": "1", "LANG": "C.UTF-8"}
            env.update(hello["env"])
            env.update(hello["sp_env"])
            for label, exe in doctors:
                argv = [exe, "check", "--name", "contosoreg", "--ca-file", hello["ca_file"],
                        "--repository", "app", "--output", "json"]
                cmd("clear-log")
                r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
                log = json.loads(cmd("log"))
                requests = log.get("requests", log) if isinstance(log, dict) else log
                try:
                    report = json.loads(r.stdout)
                except json.JSONDecodeError:
                    report = {}
                # No Docker daemon in the namespace: its finding is expected everywhere.
                codes = [f.get("code") for f in report.get("findings", [])
                         if f.get("code") != "DOCKER_DAEMON_ERROR"]
                walls = []
                for _ in range(a.runs):
                    t0 = time.monotonic()
                    subprocess.run(argv, env=env, capture_output=True, timeout=600)
                    walls.append((time.monotonic() - t0) * 1000.0)
                wall = statistics.median(walls)
                arm = [q for q in requests if q.get("listener") == "arm"]
                rows.append({
                    "scenario": sid, "binary": label, "expected": expected,
                    "found": expected in codes if expected else not codes,
                    "codes": codes[:4], "wall_ms": round(wall), "round_trips": round(wall / a.rtt, 1),
                    "requests": len(requests), "arm_requests": len(arm),
                    "role_definition_reads": sum(
                        1 for q in arm if "/roleDefinitions" in q.get("path", "")),
                })
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        finally:
            proc.stdin.close()
            proc.wait(timeout=30)
    print(f"| scenario | binary | primary code | wall (median of {a.runs}) | "
          f"round trips (wall / {a.rtt} ms) | requests (ARM) | role-definition reads |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        code = r["expected"] or "(healthy)"
        mark = "" if r["found"] else f" (got {', '.join(c or '' for c in r['codes'])})"
        print(f"| {r['scenario']} | {r['binary']} | {code}{mark} | {r['wall_ms']} ms | "
              f"{r['round_trips']} | {r['requests']} ({r['arm_requests']}) | "
              f"{r['role_definition_reads']} |")


if __name__ == "__main__":
    main()
