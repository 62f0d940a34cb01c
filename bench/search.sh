#!/usr/bin/env bash
# Search benchmark driver: fills a data directory with blocks of strand-loadgen's data
# (strand-blockgen, one thread at nice 10), starts Strand over it (compaction off, so the
# measured blocks are the generated ones), and runs bench/search.py: TraceQL searches,
# tag names and values, and how soon an acknowledged span is searchable.
#
#   bench/search.sh [--spans 10000000] [--pool-size 4096] [--data-dir DIR] [--keep]
#                   [--runs 10] [--probes 20] [--pin] [--build build] [--json-out FILE]
#
# --pool-size is blockgen's number of distinct requests: 32 repeats a small set (low
# cardinality, which statistics prune well); 4096 gives 2M distinct spans. --pin puts
# Strand on core 0 and the client on core 1 (each search runs on one core).
# --data-dir reuses a directory this script (or blockgen) filled before.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
spans=10000000 pool=4096 data="" keep=0 runs=10 probes=20 pin=0 build="$root/build" json_out=""
while (($#)); do
  case "$1" in
    --spans) spans="$2"; shift 2 ;;
    --pool-size) pool="$2"; shift 2 ;;
    --data-dir) data="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --runs) runs="$2"; shift 2 ;;
    --probes) probes="$2"; shift 2 ;;
    --pin) pin=1; shift ;;
    --build) build="$2"; shift 2 ;;
    --json-out) json_out="$2"; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
json_out="${json_out:-$here/results/search-$spans-pool$pool.json}"
mkdir -p "$(dirname "$json_out")"

created=0
if [[ -z "$data" ]]; then
  data="$(mktemp -d /tmp/strand-search.XXXXXX)"
  created=1
fi
work="$(mktemp -d /tmp/strand-search-run.XXXXXX)"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
  if ((created && !keep)); then rm -rf "$data"; fi
}
trap cleanup EXIT

if [[ ! -f "$data/blockgen.json" ]]; then
  nice -n 10 "$build/strand-blockgen" --data-dir "$data" --spans "$spans" --pool-size "$pool" \
    --ids-out "$data/blockgen-ids.txt" --json-out "$data/blockgen.json"
fi
stored=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["spans"])' "$data/blockgen.json")

grpc_port=$(free_port) http_port=$(free_port) api_port=$(free_port)
cat >"$work/strand.yaml" <<YAML
strand:
  store:
    compaction:
      enabled: false
YAML
server_cpu=() client_cpu=()
if ((pin)); then server_cpu=(taskset -c 0) client_cpu=(taskset -c 1); fi
"${server_cpu[@]}" "$build/strand" --config "$work/strand.yaml" --data-dir "$data" \
  --otlp-grpc-listen "127.0.0.1:$grpc_port" --otlp-http-listen "127.0.0.1:$http_port" \
  --api-listen "127.0.0.1:$api_port" --log-level warn >"$work/strand.log" 2>&1 &
pid=$!
for _ in $(seq 1200); do
  curl -sf "127.0.0.1:$api_port/ready" >/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/strand.log" >&2; exit 1; }
  sleep 0.05
done
echo "stored spans: $stored (pool size $pool); load average $(cut -d' ' -f1-3 /proc/loadavg)"
"${client_cpu[@]}" python3 "$here/search.py" --port "$api_port" --otlp-http-port "$http_port" \
  --runs "$runs" --probes "$probes" --stored-spans "$stored" --json-out "$work/client.json"
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
# Leave the data as it was: the probes' spans are only in the WAL and live traces, so stop
# without the shutdown cut and drop the WAL (the generated data is all in blocks).
kill -KILL "$pid"; wait "$pid" 2>/dev/null || true; pid=""
rm -rf "$data/wal"
python3 - "$work/client.json" "$json_out" "$hwm_kb" "$pool" "$data" <<'PY'
import json, sys
client, out, hwm_kb, pool, data = sys.argv[1:]
res = json.load(open(client))
res.update({"peak_rss_mb": round(int(hwm_kb) / 1024, 1), "pool_size": int(pool),
            "data_dir": data})
json.dump(res, open(out, "w"), indent=2)
print(f"peak RSS {res['peak_rss_mb']} MB (written to {out})")
PY
