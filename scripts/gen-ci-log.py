#!/usr/bin/env python3
"""Writes a synthetic CI build log for triage benchmarks (not a test; nothing is asserted).

    gen-ci-log.py SIZE_BYTES {start|middle|end|none} > build.log

The lines look like an Azure DevOps / GitHub Actions log of a container build: timestamps,
BuildKit steps with sha256 digests (some containing "401" and "403"), layer progress, compiler
and package-manager output, a few non-ASCII lines. One registry error line
(`lookup contosoreg.azurecr.io on 10.0.0.10:53: no such host`) is put at the start, the
middle or the end; its line number is printed on standard error.
"""
import os
import random
import sys

ERROR = ("{ts} Error response from daemon: Get \"https://contosoreg.azurecr.io/v2/\": "
         "dial tcp: lookup contosoreg.azurecr.io on 10.0.0.10:53: no such host\n")


def digest(rng):
    d = "%064x" % rng.getrandbits(256)
    if rng.random() < 0.2:
        i = rng.randrange(0, 60)
        d = d[:i] + rng.choice(("401", "403")) + d[i + 3:]
    return d


def line(rng, n):
    ts = "2024-05-22T19:%02d:%02d.%07dZ" % (n // 60000 % 60, n // 1000 % 60, n % 10000000)
    k = rng.random()
    if k < 0.30:
        return "%s #%d sha256:%s %.2fMB / %.2fMB %.1fs\n" % (
            ts, rng.randrange(1, 40), digest(rng), rng.random() * 30, 30.43, rng.random() * 9)
    if k < 0.45:
        return "%s %s: %s\n" % (ts, digest(rng)[:12], rng.choice(
            ("Pull complete", "Pushed", "Layer already exists", "Waiting", "Verifying Checksum",
             "Download complete", "Preparing")))
    if k < 0.60:
        return "%s    Compiling crate-%d v0.%d.%d (registry+https://github.com/rust-lang/crates.io-index)\n" % (
            ts, rng.randrange(1000), rng.randrange(30), rng.randrange(20))
    if k < 0.70:
        return "%s npm WARN deprecated pkg-%d@%d.%d.%d: this version is no longer supported, please update\n" % (
            ts, rng.randrange(5000), rng.randrange(9), rng.randrange(20), rng.randrange(40))
    if k < 0.78:
        return "%s #%d [build %d/12] RUN dotnet restore src/App%d.csproj --verbosity minimal\n" % (
            ts, rng.randrange(1, 40), rng.randrange(1, 12), rng.randrange(50))
    if k < 0.84:
        return "%s   test tests::case_%d ... ok (%d ms, port 40%d, id %s)\n" % (
            ts, rng.randrange(100000), rng.randrange(999), rng.randrange(10, 99),
            "%08x-%04x-%04x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16),
                                           rng.getrandbits(16), rng.getrandbits(16), rng.getrandbits(48)))
    if k < 0.90:
        return "%s ##[debug]Evaluating condition for step: 'Build and push image' => True (%d)\n" % (
            ts, rng.randrange(100000))
    if k < 0.95:
        return "%s warning: unused variable `x%d` in src/module_%d.rs:%d:%d\n" % (
            ts, rng.randrange(100), rng.randrange(300), rng.randrange(2000), rng.randrange(80))
    if k < 0.98:
        return "%s ✔ built target %d in %d ms — cache hit %d%%\n" % (
            ts, rng.randrange(1000), rng.randrange(5000), rng.randrange(100))
    return "%s Downloading https://registry.npmjs.org/pkg-%d/-/pkg-%d-1.%d.0.tgz (%d kB)\n" % (
        ts, rng.randrange(9000), rng.randrange(9000), rng.randrange(30), rng.randrange(900))


def main():
    size = int(sys.argv[1])
    where = sys.argv[2]
    rng = random.Random(23)
    # A block of varied lines is generated once and repeated: fast, and the scanner sees the
    # same mix of line shapes as in a generated-per-line log.
    block = []
    block_bytes = 0
    while block_bytes < min(size, 4 << 20):
        text = line(rng, len(block)).encode()
        block.append(text)
        block_bytes += len(text)
    out = sys.stdout.buffer
    written = 0
    lines = 0
    placed = False
    error = ERROR.format(ts="2024-05-22T19:23:52.1010004Z").encode()
    target = {"start": 0, "middle": size // 2, "end": size, "none": -1}[where]
    while written < size:
        for text in block:
            if not placed and target >= 0 and written >= target:
                out.write(error)
                written += len(error)
                lines += 1
                placed = True
                print("error at line %d" % lines, file=sys.stderr)
            out.write(text)
            written += len(text)
            lines += 1
            if written >= size and (placed or target < 0):
                break
    if not placed and target >= 0:
        out.write(error)
        lines += 1
        print("error at line %d" % lines, file=sys.stderr)
    out.flush()


if __name__ == "__main__":
    main()
