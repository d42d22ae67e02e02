#!/usr/bin/env python3
"""Times commands side by side: runs them in turns (A B A B ...), so that the load of a shared
machine falls on all of them alike, and reads each run's wall time and CPU time (user + sys,
from wait4's rusage of that very process).

    interleave.py SPEC.json OUT.json

SPEC.json: {"warmup": W, "runs": N, "commands": [{"name": .., "argv": [..], "stdin": PATH or
null, "prepare": [argv, ..] (run untimed before each run)}, ..]}. Every run must exit 0.
OUT.json: {name: {"wall_ms": [..], "cpu_ms": [..], "median_wall_ms", "median_cpu_ms"}}.
Used by scripts/bench.d/credential-helper.sh.
"""
import json
import os
import statistics
import subprocess
import sys
import time


def run(cmd):
    for p in cmd.get("prepare", []):
        subprocess.run(p, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    stdin = os.open(cmd["stdin"] or os.devnull, os.O_RDONLY)
    null = os.open(os.devnull, os.O_WRONLY)
    actions = [(os.POSIX_SPAWN_DUP2, stdin, 0), (os.POSIX_SPAWN_DUP2, null, 1),
               (os.POSIX_SPAWN_DUP2, null, 2)]
    start = time.perf_counter()
    pid = os.posix_spawn(cmd["argv"][0], cmd["argv"], os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    os.close(stdin)
    os.close(null)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd['name']}: {' '.join(cmd['argv'])} exited {status}")
    return wall * 1000, (usage.ru_utime + usage.ru_stime) * 1000


def main():
    spec = json.load(open(sys.argv[1]))
    cmds = spec["commands"]
    for _ in range(spec["warmup"]):
        for c in cmds:
            run(c)
    out = {c["name"]: {"wall_ms": [], "cpu_ms": []} for c in cmds}
    for _ in range(spec["runs"]):
        for c in cmds:
            wall, cpu = run(c)
            out[c["name"]]["wall_ms"].append(wall)
            out[c["name"]]["cpu_ms"].append(cpu)
    for r in out.values():
        r["median_wall_ms"] = statistics.median(r["wall_ms"])
        r["median_cpu_ms"] = statistics.median(r["cpu_ms"])
    json.dump(out, open(sys.argv[2], "w"))


main()
