#!/usr/bin/env bash
# Benchmark section (its output goes into BENCHMARKS.md via scripts/bench): a cold `regctl login`
# for an ECR registry (no cached token: credentials, a SigV4-signed GetAuthorizationToken, config
# writes), and a cached `docker-credential-regctl get`, which is what docker runs for every pull.
# A real `regctl login` first mints the token from moto_server behind the tests' SigV4-verifying
# front (tests/support/sigv4_front.py), both started here on 127.0.0.1; the front is then stopped,
# so every timed `get` is served from the cache. Needs moto_server and botocore (scripts/setup).
set -euo pipefail
: "${REGCTL_BIN:?run through scripts/bench}" "${BENCH_TMP:?run through scripts/bench}"
helper="${HELPER_BIN:-$(dirname "$REGCTL_BIN")/docker-credential-regctl}"
command -v moto_server >/dev/null || { echo "moto_server is missing: run scripts/setup" >&2; exit 1; }
d="$BENCH_TMP/ecr"; mkdir -p "$d/home"
export HOME="$d/home" DOCKER_CONFIG="$d/home/.docker" XDG_CACHE_HOME="$d/cache" XDG_STATE_HOME="$d/state"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
moto_port=$(free_port)
moto_server -H 127.0.0.1 -p "$moto_port" >"$d/moto.log" 2>&1 & pids+=($!)
for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$moto_port") 2>/dev/null && break; sleep 0.05; done
key=AKIABENCHKEY000001 secret=bench-secret-key
printf '{"%s": {"secret": "%s", "session_token": null, "behaviour": "allow"}}' "$key" "$secret" >"$d/keys.json"
python3 tests/support/sigv4_front.py --upstream "http://127.0.0.1:$moto_port" --keys "$d/keys.json" \
  >"$d/front.port" 2>"$d/front.log" & front_pid=$!; pids+=("$front_pid")
for _ in $(seq 200); do [ -s "$d/front.port" ] && break; sleep 0.05; done
export AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" AWS_ENDPOINT_URL="http://127.0.0.1:$(cat "$d/front.port")"

host=123456789012.dkr.ecr.us-east-1.amazonaws.com
"$REGCTL_BIN" login "$host" -q >/dev/null 2>"$d/login.log" || { cat "$d/login.log" >&2; exit 1; }
# Cold: the token cache is emptied before every run, so each one mints a token through the front.
hyperfine --warmup 3 --runs 40 --style basic --prepare "rm -rf $d/cache/regctl/ecr" \
  --export-json "$d/login.json" "$REGCTL_BIN login $host -q" >/dev/null 2>&1
login_ms=$(median_ms "$d/login.json")
# From here on AWS cannot be asked: what is timed is the cache.
kill "$front_pid"; wait "$front_pid" 2>/dev/null || true
printf %s "$host" | "$helper" get | grep -q '"Username":"AWS"' || {
  echo "docker-credential-regctl get did not serve the cached ECR token" >&2; exit 1; }

hyperfine --warmup 10 --runs 200 --style basic --export-json "$d/get.json" \
  "printf %s $host | $helper get" >/dev/null 2>&1
get_ms=$(median_ms "$d/get.json")
printf %s "$host" >"$d/stdin"
rss=$(/usr/bin/time -f %M -o "$d/rss" "$helper" get <"$d/stdin" >/dev/null 2>&1; cat "$d/rss")
cat <<MD
## ECR token logins (issues 6 and 15)

| what | measured | target |
|---|---|---|
| cold \`regctl login\` for an ECR registry (environment keys; token minted from moto through the SigV4-checking front on 127.0.0.1, cache emptied before each run), median wall | ${login_ms} ms | |
| cached \`docker-credential-regctl get\` for an ECR registry (token minted by \`regctl login\` from moto, endpoint then stopped), median wall | ${get_ms} ms | < 5 ms |
| peak RSS of that \`get\` | $((rss / 1024)).$(( (rss % 1024) * 10 / 1024 )) MiB | |
MD
