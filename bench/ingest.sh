#!/usr/bin/env bash
# Ingest benchmark driver: starts Strand pinned to one core, drives strand-loadgen from the
# other, and reports spans per CPU-second of the Strand process (from /proc), the load
# generator's acknowledgement latency, Strand's peak RSS and WAL bytes per span.
#
#   bench/ingest.sh [--protocol grpc|http|http-json] [--duration 30s] [--rate 0]
#                   [--build build] [--json-out FILE] [-- extra loadgen flags]
#
# Prints a table and writes the figures as JSON (default bench/results/ingest-<proto>.json).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
protocol=grpc duration=30s rate=0 build="$root/build" json_out="" extra=()
while (($#)); do
  case "$1" in
    --protocol) protocol="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --json-out) json_out="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
json_out="${json_out:-$here/results/ingest-$protocol.json}"
mkdir -p "$(dirname "$json_out")"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
  echo $((20000 + RANDOM % 20000)); }
grpc_port=$(free_port) http_port=$(free_port) api_port=$(free_port)
data="$(mktemp -d /tmp/strand-bench.XXXXXX)"
log="$data.log"
taskset -c 0 "$build/strand" --data-dir "$data" --otlp-grpc-listen "127.0.0.1:$grpc_port" \
  --otlp-http-listen "127.0.0.1:$http_port" --api-listen "127.0.0.1:$api_port" \
  --log-level warn >"$log" 2>&1 &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "127.0.0.1:$api_port/ready" >/dev/null && break; sleep 0.05; done

clk=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
endpoint="127.0.0.1:$grpc_port"
[[ "$protocol" != grpc ]] && endpoint="127.0.0.1:$http_port"
before=$(cpu_ticks)
lg_json="$data.loadgen.json"
taskset -c 1 "$build/strand-loadgen" --endpoint "$endpoint" --protocol "$protocol" \
  --duration "$duration" --rate "$rate" --json-out "$lg_json" "${extra[@]}"
after=$(cpu_ticks)
metrics="$(curl -s "127.0.0.1:$api_port/metrics")"
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
wal_bytes=$(awk '$1 == "strand_wal_bytes_written_total" {print $2}' <<<"$metrics")
fsyncs=$(awk '$1 == "strand_wal_fsyncs_total" {print $2}' <<<"$metrics")
accepted=$(awk '/^strand_receiver_spans_accepted_total/ {s += $2} END {print s + 0}' <<<"$metrics")

cpu_s=$(awk -v a="$after" -v b="$before" -v c="$clk" 'BEGIN {printf "%.3f", (a - b) / c}')
python3 - "$lg_json" "$json_out" "$protocol" "$cpu_s" "$hwm_kb" "$wal_bytes" "$fsyncs" \
  "$accepted" <<'PY'
import json, sys
lg_path, out, proto, cpu_s, hwm_kb, wal_bytes, fsyncs, accepted = sys.argv[1:]
lg = json.load(open(lg_path))
cpu_s, accepted = float(cpu_s), int(float(accepted))
res = {
    "protocol": proto,
    "spans_acknowledged": accepted,
    "strand_cpu_seconds": cpu_s,
    "spans_per_cpu_second": round(accepted / cpu_s) if cpu_s > 0 else None,
    "peak_rss_mb": round(int(hwm_kb) / 1024, 1),
    "wal_bytes_per_span": round(float(wal_bytes) / accepted, 1) if accepted else None,
    "wal_fsyncs": int(float(fsyncs)),
    "loadgen": lg,
}
json.dump(res, open(out, "w"), indent=2)
lat = lg.get("latency_ms", {})
print(f"\n{'protocol':<22}{proto}")
for k in ["spans_acknowledged", "strand_cpu_seconds", "spans_per_cpu_second", "peak_rss_mb",
          "wal_bytes_per_span", "wal_fsyncs"]:
    print(f"{k:<22}{res[k]}")
for k in ["p50", "p90", "p99", "max"]:
    if k in lat:
        print(f"{'ack latency ' + k + ' ms':<22}{lat[k]}")
print(f"(written to {out})")
PY
