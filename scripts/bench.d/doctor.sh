#!/usr/bin/env bash
# Benchmark section (its output goes into BENCHMARKS.md via scripts/bench): regctl doctor on a
# healthy loopback registry (TLS from a private CA, htpasswd), and ten registries diagnosed at
# once, one of them blackholed (accepts TCP, never answers TLS), against the blackholed one alone.
set -euo pipefail
: "${REGCTL_BIN:?run through scripts/bench}" "${BENCH_TMP:?run through scripts/bench}"
d="$BENCH_TMP/doctor"; mkdir -p "$d"
export HOME="$d/home" DOCKER_CONFIG="$d/home/.docker" REGCTL_DAEMON_CONFIG="$d/daemon.json" \
  REGCTL_CERTS_DIR="$d/certs.d" REGCTL_DOCKER_SERVICE_DIR="$d/dropins" XDG_STATE_HOME="$d/state"
mkdir -p "$HOME"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A private CA and a server certificate for 127.0.0.1.
bench_pki "$d"

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
start_registry() {
  local port=$1 dir="$d/reg-$1"; mkdir -p "$dir"
  cat > "$dir/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $dir/data}}
http: {addr: 127.0.0.1:$port, secret: bench, tls: {certificate: $d/srv.crt, key: $d/srv.key}}
auth: {htpasswd: {realm: bench, path: $d/htpasswd}}
YML
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 & pids+=($!)
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return; sleep 0.05; done
}
hosts=()
for _ in $(seq 9); do
  p=$(free_port); start_registry "$p"; hosts+=("127.0.0.1:$p")
  "$REGCTL_BIN" trust-ca "127.0.0.1:$p" "$d/ca.crt" -q >/dev/null
  printf bench-password | "$REGCTL_BIN" login "127.0.0.1:$p" -u bench --password-stdin --store file -q >/dev/null 2>&1
done
# The blackhole: a listener whose connections the kernel accepts and nobody answers.
bp=$(free_port)
python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',$bp)); s.listen(64); time.sleep(3600)" & pids+=($!)
sleep 0.3
one="${hosts[0]}"
"$REGCTL_BIN" doctor "$one" -q >/dev/null || { echo "doctor does not find $one healthy" >&2; "$REGCTL_BIN" doctor "$one" >&2; exit 1; }
hyperfine -N --warmup 5 --runs 50 --export-json "$d/one.json" "$REGCTL_BIN doctor $one -q" >/dev/null 2>&1
hyperfine -N --warmup 1 --runs 5 -i --export-json "$d/black.json" "$REGCTL_BIN doctor 127.0.0.1:$bp --timeout 2 -q" >/dev/null 2>&1
hyperfine -N --warmup 1 --runs 5 -i --export-json "$d/ten.json" "$REGCTL_BIN doctor ${hosts[*]} 127.0.0.1:$bp --timeout 2 -q" >/dev/null 2>&1
one_ms=$(median_ms "$d/one.json"); black_ms=$(median_ms "$d/black.json"); ten_ms=$(median_ms "$d/ten.json")
ratio=$(python3 -c "print('%.2f' % ($ten_ms / $black_ms))")
cat <<MD
## doctor (issue 5)

| what | measured | target |
|---|---|---|
| \`regctl doctor\` on a healthy loopback registry (TLS, private CA in certs.d, htpasswd login checked), median | ${one_ms} ms | < 50 ms |
| the blackholed registry alone (\`--timeout 2\`: TLS handshake timeout), median | ${black_ms} ms | |
| 10 registries at once (9 healthy + the blackholed one), median | ${ten_ms} ms | |
| 10 at once / slowest alone | ${ratio} | < 1.2 |
MD
