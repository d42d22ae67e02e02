# shellcheck shell=bash
# Benchmark: `docker-credential-regctl get` vs Docker's `docker-credential-secretservice get`
# against the same gnome-keyring, in a private D-Bus session started here (the user's keyring is
# never touched). Sourced by scripts/bench; needs hyperfine, dbus-daemon, gnome-keyring-daemon,
# docker-credential-secretservice (scripts/setup installs them) and a release build:
# $REGCTL_BIN (regctl) and $HELPER_BIN (docker-credential-regctl, default: beside $REGCTL_BIN).
# Prints a markdown table of the medians and their ratio on stdout.

bench_credential_helper() (
  set -euo pipefail
  local helper="${HELPER_BIN:-$(dirname "${REGCTL_BIN:?set REGCTL_BIN to the release regctl}")/docker-credential-regctl}"
  local theirs
  theirs="$(command -v docker-credential-secretservice)" || {
    echo "docker-credential-secretservice is missing: run scripts/setup" >&2
    return 1
  }
  local tmp dbus_pid gk_pid
  tmp="$(mktemp -d)"
  mkdir -p "$tmp/home" "$tmp/data" "$tmp/run"
  chmod 700 "$tmp/run"
  export HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run"
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
  local item
  item="$(printf '{"ServerURL":"%s","Username":"bench","Secret":"bench-s3cret"}' "$host")"
  printf '%s' "$item" | "$helper" store
  printf '%s' "$item" | "$theirs" store
  # Both must answer before timing means anything.
  printf '%s' "$host" | "$helper" get | grep -q bench-s3cret
  printf '%s' "$host" | "$theirs" get | grep -q bench-s3cret

  hyperfine --warmup 5 --runs 100 --style basic --export-json "$tmp/result.json" \
    -n docker-credential-regctl "printf %s $host | $helper get" \
    -n docker-credential-secretservice "printf %s $host | $theirs get" >&2

  python3 - "$tmp/result.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
ours = r["docker-credential-regctl"]["median"] * 1000
theirs = r["docker-credential-secretservice"]["median"] * 1000
print("## docker-credential-regctl vs docker-credential-secretservice (issues 3 and 8)")
print()
print("| helper `get` (same gnome-keyring) | median |")
print("| --- | ---: |")
print(f"| docker-credential-regctl | {ours:.2f} ms |")
print(f"| docker-credential-secretservice | {theirs:.2f} ms |")
print(f"| ratio regctl / secretservice | {ours / theirs:.2f} |")
PY
)

bench_credential_helper
