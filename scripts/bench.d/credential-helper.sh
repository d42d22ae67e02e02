# shellcheck shell=bash
# Benchmark: docker-credential-regctl vs Docker's docker-credential-secretservice, every action,
# against the same gnome-keyring in a private D-Bus session started here (the user's keyring is
# never touched), plus `regctl login --store keychain`. The commands run in turns
# (interleave.py), so the load of a shared machine falls on both alike; each run's wall time and
# CPU time (user + sys of that process, from wait4) are recorded. Instruction counts from
# callgrind (valgrind) do not depend on the load at all. Sourced by scripts/bench; needs
# hyperfine's peers (python3), dbus-daemon, gnome-keyring-daemon, docker-credential-secretservice
# and valgrind (scripts/setup installs them) and a release build: $REGCTL_BIN (regctl) and
# $HELPER_BIN (docker-credential-regctl, default: beside $REGCTL_BIN).
# Prints a markdown section on stdout.

bench_credential_helper() (
  set -euo pipefail
  local helper="${HELPER_BIN:-$(dirname "${REGCTL_BIN:?set REGCTL_BIN to the release regctl}")/docker-credential-regctl}"
  local here; here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  local theirs
  theirs="$(command -v docker-credential-secretservice)" || {
    echo "docker-credential-secretservice is missing: run scripts/setup" >&2
    return 1
  }
  command -v valgrind >/dev/null || { echo "valgrind is missing: run scripts/setup" >&2; return 1; }
  local tmp dbus_pid gk_pid
  tmp="$(mktemp -d)"
  mkdir -p "$tmp/home" "$tmp/data" "$tmp/run"
  chmod 700 "$tmp/run"
  export HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run" DOCKER_CONFIG="$tmp/home/.docker"
  dbus-daemon --session --nofork --print-address=1 >"$tmp/addr" 2>/dev/null &
  dbus_pid=$!
  trap 'kill "${gk_pid:-}" "$dbus_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
  for _ in $(seq 100); do [ -s "$tmp/addr" ] && break; sleep 0.05; done
  DBUS_SESSION_BUS_ADDRESS="$(head -n1 "$tmp/addr")"
  export DBUS_SESSION_BUS_ADDRESS
  printf 'bench-keyring-password' | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
  gk_pid=$!
  for _ in $(seq 200); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
      grep -q 'boolean true' && break
    sleep 0.05
  done

  local host=bench.example.com:5000
  printf '{"ServerURL":"%s","Username":"bench","Secret":"bench-s3cret"}' "$host" >"$tmp/item"
  printf '%s' "$host" >"$tmp/host"
  # `erase` works on an item of its own (stored again, untimed, before each run).
  printf '{"ServerURL":"erase.example.com","Username":"bench","Secret":"bench-s3cret"}' >"$tmp/erase-item"
  printf 'erase.example.com' >"$tmp/erase-host"
  # A few more registries, so that `list` has something to list (both helpers).
  for i in 1 2 3 4; do
    printf '{"ServerURL":"r%s.example.com","Username":"user%s","Secret":"pw%s"}' "$i" "$i" "$i" >"$tmp/other"
    "$helper" store <"$tmp/other"
    "$theirs" store <"$tmp/other"
  done
  "$helper" store <"$tmp/item"
  "$theirs" store <"$tmp/item"
  # Both must answer before timing means anything.
  "$helper" get <"$tmp/host" | grep -q bench-s3cret
  "$theirs" get <"$tmp/host" | grep -q bench-s3cret
  printf 'bench-password' >"$tmp/password"

  python3 - "$tmp" "$helper" "$theirs" "$REGCTL_BIN" >"$tmp/spec.json" <<'PY'
import json, sys
tmp, ours, theirs, regctl = sys.argv[1:]
cmds = []
for name, bin in [("regctl", ours), ("secretservice", theirs)]:
    for action, stdin in [("get", "host"), ("store", "item"), ("list", None), ("erase", "erase-host")]:
        c = {"name": f"{name} {action}", "argv": [bin, action],
             "stdin": f"{tmp}/{stdin}" if stdin else None}
        if action == "erase":
            # Something to erase every time (the store is not timed).
            c["prepare"] = [["sh", "-c", f'exec "$0" store < "$1"', bin, f"{tmp}/erase-item"]]
        cmds.append(c)
cmds.append({"name": "login", "stdin": f"{tmp}/password",
             "argv": [regctl, "login", "login.example.com", "-u", "bench", "--password-stdin",
                      "--store", "keychain", "--no-verify", "-q"],
             "prepare": [["sh", "-c", 'printf login.example.com | exec "$0" erase', ours]]})
json.dump({"warmup": 5, "runs": 100, "commands": cmds}, sys.stdout)
PY
  python3 "$here/interleave.py" "$tmp/spec.json" "$tmp/runs.json"

  # Instructions of each action, whatever the load (callgrind counts every instruction; all
  # threads). Go's preemption signals trip callgrind (an assertion in its signal handling), so
  # they are turned off for docker-credential-secretservice.
  ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : //p'; }
  local irs=()
  for bin in "$helper" "$theirs"; do
    irs+=("$(GODEBUG=asyncpreemptoff=1 ir "$bin" get <"$tmp/host")")
    irs+=("$(GODEBUG=asyncpreemptoff=1 ir "$bin" store <"$tmp/item")")
    irs+=("$(GODEBUG=asyncpreemptoff=1 ir "$bin" list </dev/null)")
    "$bin" store <"$tmp/erase-item"
    irs+=("$(GODEBUG=asyncpreemptoff=1 ir "$bin" erase <"$tmp/erase-host")")
  done

  python3 - "$tmp/runs.json" "${irs[@]}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
irs = [int(x) for x in sys.argv[2:10]]
ir = {("regctl", a): irs[i] for i, a in enumerate(["get", "store", "list", "erase"])}
ir.update({("secretservice", a): irs[4 + i] for i, a in enumerate(["get", "store", "list", "erase"])})
w = lambda n: r[n]["median_wall_ms"]
c = lambda n: r[n]["median_cpu_ms"]
print("## docker-credential-regctl vs docker-credential-secretservice (issues 3, 8 and 16)")
print()
print("Same gnome-keyring, same item layout of each helper, 100 runs of each command taken in turns")
print("(after 5 warm-up rounds); wall = median wall time of the whole process, CPU = median user + sys")
print("of that process (wait4); instructions = one run under callgrind, all threads. Targets (issue 16):")
print("`get` median wall <= 5 ms and ratio <= 0.35.")
print()
print("| action | regctl wall | secretservice wall | ratio | regctl CPU | secretservice CPU | ratio | regctl instructions | secretservice instructions | ratio |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for a in ["get", "store", "list", "erase"]:
    o, t = f"regctl {a}", f"secretservice {a}"
    io, it = ir[("regctl", a)], ir[("secretservice", a)]
    print(f"| `{a}` | {w(o):.2f} ms | {w(t):.2f} ms | {w(o)/w(t):.2f} | {c(o):.2f} ms | {c(t):.2f} ms | {c(o)/c(t):.2f} | {io:,} | {it:,} | {io/it:.3f} |")
print()
print("| what | measured |")
print("| --- | ---: |")
print(f"| `regctl login --store keychain --no-verify` (item erased before each run: a new item and config.json written), median wall | {w('login'):.2f} ms |")
print(f"| the same, median CPU | {c('login'):.2f} ms |")
PY
  # How the time was found and taken out (issue 16): measured once, kept as text.
  cat "$here/credential-helper.md"
)

bench_credential_helper
