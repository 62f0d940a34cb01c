#!/usr/bin/env bash
# Soak driver: Strand pinned to core 0 under a steady load from strand-loadgen on core 1
# for a long run; samples Strand's RSS, CPU and store state every 10 s and reports whether
# RSS and the acknowledged rate hold steady (second half vs first half).
#
#   bench/soak.sh [--rate 100000] [--duration 600s] [--protocol grpc] [--build build]
#
# Writes bench/results/soak.csv (one row per sample) and bench/results/soak.json.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
rate=100000 duration=600s protocol=grpc build="$root/build"
while (($#)); do
  case "$1" in
    --rate) rate="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --protocol) protocol="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$here/results"
csv="$here/results/soak.csv"
grpc_port=$(free_port) http_port=$(free_port) api_port=$(free_port)
data="$(mktemp -d /tmp/strand-soak.XXXXXX)"
taskset -c 0 "$build/strand" --data-dir "$data" --otlp-grpc-listen "127.0.0.1:$grpc_port" \
  --otlp-http-listen "127.0.0.1:$http_port" --api-listen "127.0.0.1:$api_port" \
  --log-level warn >"$data.log" 2>&1 &
pid=$!
cleanup() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data" "$data.log" "$data.loadgen.json"
}
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "127.0.0.1:$api_port/ready" >/dev/null && break; sleep 0.05; done
endpoint="127.0.0.1:$grpc_port"
[[ "$protocol" != grpc ]] && endpoint="127.0.0.1:$http_port"
taskset -c 1 "$build/strand-loadgen" --endpoint "$endpoint" --protocol "$protocol" \
  --duration "$duration" --rate "$rate" --json-out "$data.loadgen.json" \
  --server-pid "$pid" >"$data.loadgen.txt" 2>&1 &
lg=$!
clk=$(getconf CLK_TCK)
metric() { awk -v m="$1" '$1 == m {print $2}' <<<"$2"; }
echo "t_s,rss_mb,cpu_s,acked_spans,live_bytes,live_spans,blocks,block_bytes,refused_batches" >"$csv"
start=$(date +%s)
while kill -0 "$lg" 2>/dev/null; do
  sleep 10
  kill -0 "$lg" 2>/dev/null || break
  m="$(curl -s "127.0.0.1:$api_port/metrics")"
  rss=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
  cpu=$(awk -v c="$clk" '{printf "%.2f", ($14 + $15) / c}' "/proc/$pid/stat")
  acked=$(awk '/^strand_receiver_spans_accepted_total/ {s += $2} END {print s + 0}' <<<"$m")
  echo "$(( $(date +%s) - start )),$rss,$cpu,$acked,$(metric strand_live_bytes "$m"),$(metric strand_live_spans "$m"),$(metric strand_blocks "$m"),$(metric strand_block_bytes "$m"),$(metric strand_store_batches_refused_total "$m")" >>"$csv"
done
wait "$lg" || true
hwm=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
cat "$data.loadgen.txt" | tail -8
python3 - "$csv" "$data.loadgen.json" "$here/results/soak.json" "$hwm" "$rate" <<'PY'
import csv, json, sys
path, lg_path, out, hwm, rate = sys.argv[1:]
rows = [{k: float(v or 0) for k, v in r.items()} for r in csv.DictReader(open(path))]
lg = json.load(open(lg_path))
half = len(rows) // 2
def stats(rs, key):
    vals = [r[key] for r in rs]
    return min(vals), max(vals), sum(vals) / len(vals)
def rates(rs):
    return [(b["acked_spans"] - a["acked_spans"]) / (b["t_s"] - a["t_s"]) for a, b in zip(rs, rs[1:])]
res = {
    "samples": len(rows),
    "target_rate": int(rate),
    "peak_rss_mb": float(hwm),
    "rss_mb_first_half": stats(rows[:half], "rss_mb"),
    "rss_mb_second_half": stats(rows[half:], "rss_mb"),
    "rate_first_half": [round(x) for x in (min(rates(rows[:half])), max(rates(rows[:half])))],
    "rate_second_half": [round(x) for x in (min(rates(rows[half:])), max(rates(rows[half:])))],
    "cpu_s_per_s": round((rows[-1]["cpu_s"] - rows[0]["cpu_s"]) / (rows[-1]["t_s"] - rows[0]["t_s"]), 3),
    "refused_batches": rows[-1]["refused_batches"],
    "loadgen": {k: lg.get(k) for k in ("spans", "spans_per_s", "latency_ms", "server")},
}
json.dump(res, open(out, "w"), indent=2)
for k, v in res.items():
    if k != "loadgen":
        print(f"{k:<22}{v}")
print(f"ack latency ms        {lg.get('latency_ms')}")
print(f"(samples in {path}, summary in {out})")
PY
