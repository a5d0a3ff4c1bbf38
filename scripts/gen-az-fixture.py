#!/usr/bin/env python3
"""Writes tests/fixtures/az-commands.json: for every `az` command acr-doctor prints, the
options the real Azure CLI accepts, read from `az <command> --help`.

The commands are found where acr-doctor writes them: the `## Commands` blocks and steps of
causes/*/*.md and the string literals of src/**/*.rs. Run through scripts/gen-az-fixture.sh.
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AZ = os.environ.get("AZ", "az")
WORD = re.compile(r"\baz((?: [a-z][a-z0-9-]*)+)")
OPTION = re.compile(r"^    (--?[A-Za-z0-9][A-Za-z0-9-]*(?: -{1,2}[A-Za-z0-9][A-Za-z0-9-]*)*)")


def candidates():
    found = set()
    for base, _, files in os.walk(ROOT):
        rel = os.path.relpath(base, ROOT)
        if not (rel.startswith("causes") or rel.startswith("src")):
            continue
        for f in files:
            if not (f.endswith(".md") or f.endswith(".rs")):
                continue
            with open(os.path.join(base, f), encoding="utf-8") as fh:
                for m in WORD.finditer(fh.read()):
                    found.add(tuple(m.group(1).split()))
    return found


def help_of(words):
    r = subprocess.run([AZ, *words, "--help"], capture_output=True, text=True)
    # `az acr login has expired --help` still answers with `az acr login`'s help: the help
    # must name exactly these words.
    if r.returncode != 0 or f"\n    az {' '.join(words)} :" not in r.stdout:
        return None
    return r.stdout


def parse(text):
    options, required, section = [], [], None
    for line in text.splitlines():
        if line and not line.startswith(" "):
            section = line.strip()
            continue
        if section is None or "Arguments" not in section:
            continue
        m = OPTION.match(line)
        if not m:
            continue
        names = m.group(1).split()
        options.extend(names)
        if "[Required]" in line.split(":", 1)[0]:
            required.append(names[0])
    return sorted(set(options)), required


def main():
    version = subprocess.run([AZ, "version", "--output", "json"], capture_output=True, text=True)
    az_version = json.loads(version.stdout).get("azure-cli", "?") if version.returncode == 0 else "?"
    commands, seen = {}, set()
    for words in sorted(candidates()):
        words = list(words)
        while words:
            key = " ".join(words)
            if key in seen:
                break
            seen.add(key)
            text = help_of(words)
            if text is not None:
                options, required = parse(text)
                commands[key] = {"options": options, "required": required}
                break
            words.pop()
    out = {
        "generated_by": "scripts/gen-az-fixture.sh",
        "azure_cli_version": az_version,
        "commands": dict(sorted(commands.items())),
    }
    path = os.path.join(ROOT, "tests", "fixtures", "az-commands.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1, sort_keys=False)
        fh.write("\n")
    print(f"{len(commands)} commands, azure-cli {az_version} -> {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
