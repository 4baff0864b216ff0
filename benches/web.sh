#!/usr/bin/env bash
# `popug serve` against the same work through the CLI, in one run: requests per second and
# latency percentiles of a read page (a worker's /my: tasks, balance, audit log) and of
# POST done, beside `popug task list; popug balance; popug audit` and `popug task done`.
# One client, then 8 at once (wrk -c8; the CLI with 8 processes at once, xargs -P8).
#
# usage: bash benches/web.sh [POPUG_BIN]        (results on stdout as a Markdown table)
#   BENCH_DIR  where the ledger goes (default target/bench); BENCH_SECONDS per wrk phase (5)
#   BENCH_CLI_RUNS  CLI commands per phase (default 200)
# Needs wrk (apt-get install wrk). Nothing here asserts a time.
set -euo pipefail
cd "$(dirname "$0")/.."
POPUG=${1:-target/release/popug}
POPUG=$(realpath "$POPUG")
SECONDS_PER=${BENCH_SECONDS:-5}
CLI_RUNS=${BENCH_CLI_RUNS:-200}
BENCH_DIR=${BENCH_DIR:-target/bench}
mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$(realpath "$BENCH_DIR")/web.XXXX")
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

export POPUG_LEDGER=$WORK/ledger HOME=$WORK/home
mkdir -p "$HOME"
INIT=$("$POPUG" init --admin boss)
BOSS=$(echo "$INIT" | sed -n 's/.*temporary password: //p' | "$POPUG" login boss --password-stdin --print-token)
KPW=$(POPUG_TOKEN=$BOSS "$POPUG" user add kesha --role worker --notify none | sed -n 's/.*temporary password: //p')
KESHA=$(echo "$KPW" | "$POPUG" login kesha --password-stdin --print-token)
# the read phases: kesha holds 10 open and 10 done tasks (one worker: every task is kesha's)
for n in $(seq 1 20); do POPUG_TOKEN=$BOSS "$POPUG" task create "task $n" >/dev/null; done
for n in $(seq 1 10); do POPUG_TOKEN=$KESHA "$POPUG" task done "$n" >/dev/null; done

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$POPUG" serve --bind "127.0.0.1:$PORT" 2>"$WORK/serve.log" &
SERVER=$!
python3 - "$PORT" <<'PY'
import sys, time, urllib.request
for _ in range(200):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1); break
    except OSError:
        time.sleep(0.05)
PY
URL=http://127.0.0.1:$PORT

# wrk: requests/s and p50/p99 (ms) of one phase
wrk_phase() { # name connections lua-or-empty path
  local name=$1 c=$2 script=$3 path=$4 args=()
  [ -n "$script" ] && args=(-s "$script")
  wrk -t1 -c"$c" -d"${SECONDS_PER}s" --latency "${args[@]}" -H "Cookie: popug_session=$KESHA" "$URL$path" >"$WORK/wrk.out"
  if grep -q 'Non-2xx' "$WORK/wrk.out"; then echo "FAILED: $name answered non-2xx" >&2; cat "$WORK/wrk.out" >&2; exit 1; fi
  python3 - "$name" "$WORK/wrk.out" <<'PY'
import re, sys
name, text = sys.argv[1], open(sys.argv[2]).read()
def ms(label):
    m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)", text, re.M)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
print(f"| {name} | {rps:.0f} | {ms('50'):.2f} | {ms('99'):.2f} |")
PY
}

# the CLI: each run's wall time; requests/s = runs / total wall; percentiles of the runs
cli_phase() { # name parallel command-file
  local name=$1 p=$2 file=$3
  local started ended
  started=$(date +%s%N)
  xargs -P "$p" -I{} bash -c '{ s=$(date +%s%N); eval "$1" >/dev/null || exit 255; e=$(date +%s%N); echo $(( (e - s) / 1000 )); }' _ {} <"$file" >"$WORK/cli.times"
  ended=$(date +%s%N)
  python3 - "$name" "$WORK/cli.times" "$started" "$ended" <<'PY'
import sys
name, path, started, ended = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
t = sorted(int(x) / 1000 for x in open(path))
rps = len(t) / ((ended - started) / 1e9)
pct = lambda q: t[min(len(t) - 1, int(q * len(t)))]
print(f"| {name} | {rps:.0f} | {pct(0.5):.2f} | {pct(0.99):.2f} |")
PY
}

export POPUG CLI_TOKEN=$KESHA
READ="POPUG_TOKEN=\$CLI_TOKEN \$POPUG task list && POPUG_TOKEN=\$CLI_TOKEN \$POPUG balance && POPUG_TOKEN=\$CLI_TOKEN \$POPUG audit --from 2000-01-01"
for _ in $(seq "$CLI_RUNS"); do echo "$READ"; done >"$WORK/read.cmds"

done_script() { # first-number
  cat >"$WORK/done.lua" <<LUA
counter = $1 - 1
request = function()
  counter = counter + 1
  return wrk.format("POST", "/api/v1/tasks/" .. counter .. "/done", {["Authorization"] = "Bearer $KESHA"}, "")
end
LUA
  echo "$WORK/done.lua"
}
done_cmds() { # first count
  for n in $(seq "$1" $(($1 + $2 - 1))); do echo "POPUG_TOKEN=\$CLI_TOKEN \$POPUG task done $n"; done >"$WORK/done.cmds"
  echo "$WORK/done.cmds"
}
# the next task to finish: after the highest done one (wrk may skip a number: its first
# request() call builds a request it never sends)
next_open() {
  sleep 0.5
  echo $(( $(POPUG_TOKEN=$BOSS "$POPUG" task list --all --status done --format csv | tail -n +2 | cut -d, -f1 | sort -n | tail -1) + 1 ))
}

echo "| what | requests/s | p50 (ms) | p99 (ms) |"
echo "|---|---|---|---|"
wrk_phase "GET /my (web, 1 client)" 1 "" /my
cli_phase "task list + balance + audit (CLI, 1 at a time)" 1 "$WORK/read.cmds"
wrk_phase "GET /my (web, 8 clients)" 8 "" /my
cli_phase "task list + balance + audit (CLI, 8 at once)" 8 "$WORK/read.cmds"
# the write phases: 20,000 more open tasks to finish
python3 -c "
print('title')
for i in range(20000): print(f'task {i}')" >"$WORK/tasks.csv"
POPUG_TOKEN=$BOSS "$POPUG" task import "$WORK/tasks.csv" >/dev/null
NEXT=$(next_open)
wrk_phase "POST /api/v1/tasks/N/done (web, 1 client)" 1 "$(done_script "$NEXT")" /
NEXT=$(next_open)
cli_phase "task done N (CLI, 1 at a time)" 1 "$(done_cmds "$NEXT" "$CLI_RUNS")"
NEXT=$(next_open)
wrk_phase "POST /api/v1/tasks/N/done (web, 8 clients)" 8 "$(done_script "$NEXT")" /
NEXT=$(next_open)
cli_phase "task done N (CLI, 8 at once)" 8 "$(done_cmds "$NEXT" "$CLI_RUNS")"
NEXT=$(next_open)
POPUG_TOKEN=$BOSS "$POPUG" verify >/dev/null
echo
echo "$(POPUG_TOKEN=$BOSS "$POPUG" task list --all --status done --format csv | tail -n +2 | wc -l) tasks done, verify ok; $(nproc) cores, $(date -u +%Y-%m-%d)"
