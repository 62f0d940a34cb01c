#!/usr/bin/env bash
# Ingest benchmark driver: starts Strand pinned to one core, drives strand-loadgen from the
# other, and reports spans per CPU-second of the Strand process (from /proc), the load
# generator's acknowledgement latency, Strand's peak RSS and WAL bytes per span.
#
#   bench/ingest.sh [--protocol grpc|http|http-json|all] [--duration 30s] [--rate 0]
#                   [--ingest-only] [--config FILE] [--build build] [--json-out FILE]
#                   [-- extra loadgen flags]
#
# --ingest-only measures the ingest path alone (receive, decode, WAL, live traces): Strand
# runs with budgets large enough that nothing is cut to blocks during the run (keep the
# run short: ~20 s of unthrottled gRPC needs ~2 GB). --config passes a Strand config.
#
# CPU is split by thread name: the block cutter ("strand-cutter") and compaction
# ("strand-compact") are background work; "ingest" is everything else (receivers,
# decoding, live-trace indexing, the WAL). Both figures are reported.
#
# Prints a table and writes the figures as JSON (default bench/results/ingest-<proto>.json).
# --protocol all runs grpc, http and http-json one after the other, each on a fresh Strand.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
protocol=grpc duration=30s rate=0 build="$root/build" json_out="" extra=() config="" ingest_only=0
while (($#)); do
  case "$1" in
    --protocol) protocol="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --json-out) json_out="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    --ingest-only) ingest_only=1; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
if [[ "$protocol" == all ]]; then
  for p in grpc http http-json; do
    flags=(--protocol "$p" --duration "$duration" --rate "$rate" --build "$build")
    ((ingest_only)) && flags+=(--ingest-only)
    [[ -n "$config" ]] && flags+=(--config "$config")
    "$0" "${flags[@]}" -- "${extra[@]}"
  done
  exit 0
fi
suffix=""
((ingest_only)) && suffix="-ingest-only"
json_out="${json_out:-$here/results/ingest-$protocol$suffix.json}"
mkdir -p "$(dirname "$json_out")"

grpc_port=$(free_port) http_port=$(free_port) api_port=$(free_port)
data="$(mktemp -d /tmp/strand-bench.XXXXXX)"
log="$data.log"
strand_flags=()
if ((ingest_only)); then
  config="$data.yaml"
  printf 'strand:\n  store:\n    max_live_bytes: 16000000000\n    max_head_bytes: 16000000000\n    trace_idle_period: 1h\n    max_trace_live: 1h\n' >"$config"
fi
[[ -n "$config" ]] && strand_flags+=(--config "$config")
taskset -c 0 "$build/strand" --data-dir "$data" --otlp-grpc-listen "127.0.0.1:$grpc_port" \
  --otlp-http-listen "127.0.0.1:$http_port" --api-listen "127.0.0.1:$api_port" \
  --log-level warn "${strand_flags[@]}" >"$log" 2>&1 &
pid=$!
cleanup() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data" "$data.yaml" "$data.log" "$data.loadgen.json"
}
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "127.0.0.1:$api_port/ready" >/dev/null && break; sleep 0.05; done

clk=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
# CPU ticks of the background threads (block cutting and compaction).
bg_ticks() {
  local t=0 task
  for task in /proc/"$pid"/task/*; do
    case "$(cat "$task/comm" 2>/dev/null)" in
      strand-cutter|strand-compact) t=$((t + $(awk '{print $14 + $15}' "$task/stat"))) ;;
    esac
  done
  echo "$t"
}
endpoint="127.0.0.1:$grpc_port"
[[ "$protocol" != grpc ]] && endpoint="127.0.0.1:$http_port"
before=$(cpu_ticks) bg_before=$(bg_ticks)
lg_json="$data.loadgen.json"
taskset -c 1 "$build/strand-loadgen" --endpoint "$endpoint" --protocol "$protocol" \
  --duration "$duration" --rate "$rate" --json-out "$lg_json" "${extra[@]}"
after=$(cpu_ticks) bg_after=$(bg_ticks)
metrics="$(curl -s "127.0.0.1:$api_port/metrics")"
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
wal_bytes=$(awk '$1 == "strand_wal_bytes_written_total" {print $2}' <<<"$metrics")
fsyncs=$(awk '$1 == "strand_wal_fsyncs_total" {print $2}' <<<"$metrics")
accepted=$(awk '/^strand_receiver_spans_accepted_total/ {s += $2} END {print s + 0}' <<<"$metrics")

cpu_s=$(awk -v a="$after" -v b="$before" -v c="$clk" 'BEGIN {printf "%.3f", (a - b) / c}')
bg_s=$(awk -v a="$bg_after" -v b="$bg_before" -v c="$clk" 'BEGIN {printf "%.3f", (a - b) / c}')
python3 - "$lg_json" "$json_out" "$protocol" "$cpu_s" "$hwm_kb" "$wal_bytes" "$fsyncs" \
  "$accepted" "$bg_s" <<'PY'
import json, sys
lg_path, out, proto, cpu_s, hwm_kb, wal_bytes, fsyncs, accepted, bg_s = sys.argv[1:]
lg = json.load(open(lg_path))
cpu_s, accepted, bg_s = float(cpu_s), int(float(accepted)), float(bg_s)
ingest_s = cpu_s - bg_s
res = {
    "protocol": proto,
    "spans_acknowledged": accepted,
    "strand_cpu_seconds": cpu_s,
    "background_cpu_seconds": bg_s,
    "spans_per_cpu_second": round(accepted / cpu_s) if cpu_s > 0 else None,
    "ingest_spans_per_cpu_second": round(accepted / ingest_s) if ingest_s > 0 else None,
    "peak_rss_mb": round(int(hwm_kb) / 1024, 1),
    "wal_bytes_per_span": round(float(wal_bytes) / accepted, 1) if accepted else None,
    "wal_fsyncs": int(float(fsyncs)),
    "loadgen": lg,
}
json.dump(res, open(out, "w"), indent=2)
lat = lg.get("latency_ms", {})
print(f"\n{'protocol':<28}{proto}")
for k in ["spans_acknowledged", "strand_cpu_seconds", "background_cpu_seconds",
          "spans_per_cpu_second", "ingest_spans_per_cpu_second", "peak_rss_mb",
          "wal_bytes_per_span", "wal_fsyncs"]:
    print(f"{k:<28}{res[k]}")
for k in ["p50", "p90", "p99", "max"]:
    if k in lat:
        print(f"{'ack latency ' + k + ' ms':<28}{lat[k]}")
print(f"(written to {out})")
PY
