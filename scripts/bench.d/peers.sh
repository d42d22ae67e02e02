#!/usr/bin/env bash
# Benchmark section (its output goes into BENCHMARKS.md via scripts/bench): regctl side by side
# with skopeo, an independent registry client, against the same loopback registry (TLS from a
# private CA, htpasswd, one image): `regctl login` vs `skopeo login` (--password-stdin for both),
# `regctl doctor` on the healthy registry vs `skopeo inspect` of the image, start-up
# (`--version`), peak RSS of each, and binary size. Ratio = regctl / skopeo: <= 1.00 is at or ahead.
set -euo pipefail
: "${REGCTL_BIN:?run through scripts/bench}" "${BENCH_TMP:?run through scripts/bench}"
for t in skopeo docker-registry htpasswd openssl python3; do
  command -v "$t" >/dev/null || { echo "$t is missing: run scripts/setup" >&2; exit 1; }
done
SKOPEO_BIN="$(command -v skopeo)"
d="$BENCH_TMP/peers"; mkdir -p "$d"
export HOME="$d/home" DOCKER_CONFIG="$d/home/.docker" REGCTL_DAEMON_CONFIG="$d/daemon.json" \
  REGCTL_CERTS_DIR="$d/certs.d" REGCTL_DOCKER_SERVICE_DIR="$d/dropins" XDG_STATE_HOME="$d/state" \
  XDG_RUNTIME_DIR="$d/run" DBUS_SESSION_BUS_ADDRESS="unix:path=$d/no-bus"
mkdir -p "$HOME" "$d/run"; chmod 700 "$d/run"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host="127.0.0.1:$port"

# A private CA and a server certificate for 127.0.0.1; both clients trust it through a certs.d
# folder (regctl: $REGCTL_CERTS_DIR/HOST, skopeo: --cert-dir).
bench_pki "$d"
printf 'bench-password\n' > "$d/pw"
certs="$REGCTL_CERTS_DIR/$host"; mkdir -p "$certs"; cp "$d/ca.crt" "$certs/ca.crt"

cat > "$d/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $d/data}}
http: {addr: $host, secret: bench, tls: {certificate: $d/srv.crt, key: $d/srv.key}}
auth: {htpasswd: {realm: bench, path: $d/htpasswd}}
YML
docker-registry serve "$d/config.yml" >"$d/registry.log" 2>&1 &
registry_pid=$!
trap 'kill "$registry_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done

# One image, pushed by skopeo from an OCI layout: an empty layer, a config, a manifest.
python3 - "$d/layout" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
root = sys.argv[1]; blobs = os.path.join(root, "blobs", "sha256"); os.makedirs(blobs)
def put(data):
    digest = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, digest), "wb").write(data)
    return "sha256:" + digest, len(data)
tar = io.BytesIO(); tarfile.open(fileobj=tar, mode="w").close()
layer = gzip.compress(tar.getvalue(), mtime=0)
layer_digest, layer_size = put(layer)
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar.getvalue()).hexdigest()]}}).encode()
config_digest, config_size = put(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer_size}]}).encode()
manifest_digest, manifest_size = put(manifest)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": manifest_digest, "size": manifest_size, "annotations": {"org.opencontainers.image.ref.name": "v1"}}]},
    open(os.path.join(root, "index.json"), "w"))
open(os.path.join(root, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
"$SKOPEO_BIN" copy --quiet --insecure-policy --dest-creds bench:bench-password --dest-cert-dir "$certs" \
  "oci:$d/layout:v1" "docker://$host/bench/hello:v1"

# Both log in once (regctl into config.json, skopeo into its own auth file), and must work
# before timing means anything.
regctl_login="$REGCTL_BIN login $host -u bench --password-stdin --store file -q"
skopeo_login="$SKOPEO_BIN login --authfile $d/skopeo-auth.json --cert-dir $certs -u bench --password-stdin $host"
regctl_doctor="$REGCTL_BIN doctor $host -q"
skopeo_inspect="$SKOPEO_BIN inspect --authfile $d/skopeo-auth.json --cert-dir $certs docker://$host/bench/hello:v1"
$regctl_login < "$d/pw" >/dev/null 2>&1
$skopeo_login < "$d/pw" >/dev/null 2>&1
$regctl_doctor >/dev/null || { echo "doctor does not find $host healthy" >&2; "$REGCTL_BIN" doctor "$host" >&2; exit 1; }
$skopeo_inspect >/dev/null

hyperfine --warmup 3 --runs 30 --style basic --export-json "$d/login.json" \
  -n regctl "$regctl_login < $d/pw" -n skopeo "$skopeo_login < $d/pw" >&2
hyperfine -N --warmup 3 --runs 30 --style basic --export-json "$d/doctor.json" \
  -n regctl "$regctl_doctor" -n skopeo "$skopeo_inspect" >&2
hyperfine -N --warmup 10 --runs 200 --style basic --export-json "$d/version.json" \
  -n regctl "$REGCTL_BIN --version" -n skopeo "$SKOPEO_BIN --version" >&2

rss() { # label, then the peak RSS (KiB) of regctl's and skopeo's command
  printf '%s %s %s\n' "$1" "$2" "$3" >> "$d/rss"
}
rss login "$(peak_rss_kb $regctl_login < "$d/pw")" "$(peak_rss_kb $skopeo_login < "$d/pw")"
rss doctor "$(peak_rss_kb $regctl_doctor)" "$(peak_rss_kb $skopeo_inspect)"
rss version "$(peak_rss_kb "$REGCTL_BIN" --version)" "$(peak_rss_kb "$SKOPEO_BIN" --version)"

python3 - "$d" "$REGCTL_BIN" "$SKOPEO_BIN" "$("$SKOPEO_BIN" --version | awk '{print $3}')" <<'PY'
import json, os, sys
d, regctl, skopeo, skopeo_version = sys.argv[1:5]
def medians(name):
    r = {x["command"]: x["median"] * 1000 for x in json.load(open(os.path.join(d, name)))["results"]}
    return r["regctl"], r["skopeo"]
rows = [
    ("`regctl login` vs `skopeo login` (TLS + htpasswd, --password-stdin, credentials checked), median", medians("login.json"), "ms"),
    ("`regctl doctor` (healthy, stored credentials checked) vs `skopeo inspect` of an image, median", medians("doctor.json"), "ms"),
    ("start-up: `--version`, median", medians("version.json"), "ms"),
]
for line in open(os.path.join(d, "rss")):
    label, ours, theirs = line.split()
    what = {"login": "login", "doctor": "doctor vs inspect", "version": "`--version`"}[label]
    rows.append((f"peak RSS, {what}", (int(ours) / 1024, int(theirs) / 1024), "MiB"))
rows.append(("binary size (release, stripped; target < 10 MiB)",
             (os.path.getsize(regctl) / 1048576, os.path.getsize(skopeo) / 1048576), "MiB"))
print(f"## regctl vs skopeo {skopeo_version} (issue 8)")
print()
print("Same loopback registry (docker-registry, TLS from a private CA, htpasswd), same certs.d folder.")
print("Ratio = regctl / skopeo: at or below 1.00, regctl is at or ahead.")
print()
print("| what | regctl | skopeo | ratio |")
print("|---|---:|---:|---:|")
for what, (ours, theirs), unit in rows:
    print(f"| {what} | {ours:.2f} {unit} | {theirs:.2f} {unit} | {ours / theirs:.2f} |")
PY
