#!/usr/bin/env bash
# Ingest benchmark driver: starts Strand pinned to one core, drives strand-loadgen from the
# other, and reports spans per CPU-second of the Strand process (from /proc), the load
# generator's acknowledgement latency, Strand's peak RSS and WAL bytes per span.
#
#   bench/ingest.sh [--protocol grpc|http|http-json|all] [--duration 30s] [--rate 0]
#                   [--ingest-only] [--no-drain] [--config FILE] [--build build]
#                   [--json-out FILE] [-- extra loadgen flags]
#
# By default the figure is end to end (issue 17): Strand runs its default configuration
# (block cutting and compaction beside ingest), and after the load it is left to drain:
# the driver waits until no span is live and the process has been idle for 12 s (longer
# than the 10 s maintenance interval, so a compaction that was due has run), at most
# 300 s. The CPU counted is everything Strand used from the first span to that point.
# It also reports how the CPU split between threads (ingest = receivers, decoding, WAL,
# live traces; "strand-cutter"; "strand-compact"), the bytes the process wrote to disk
# (/proc/PID/io write_bytes) per byte of the blocks left at the end (write amplification,
# with and without the WAL) and the blocks' bytes per span.
#
# --ingest-only measures the ingest path alone (receive, decode, WAL, live traces): Strand
# runs with budgets large enough that nothing is cut to blocks during the run, and nothing
# is drained (keep the run short: ~20 s of unthrottled gRPC needs ~2 GB). --no-drain stops
# counting when the load ends. --config passes a Strand config.
#
# Prints a table and writes the figures as JSON (default bench/results/ingest-<proto>.json).
# --protocol all runs grpc, http and http-json one after the other, each on a fresh Strand.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
protocol=grpc duration=30s rate=0 build="$root/build" json_out="" extra=() config="" ingest_only=0
drain=1
while (($#)); do
  case "$1" in
    --protocol) protocol="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --json-out) json_out="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    --ingest-only) ingest_only=1; drain=0; shift ;;
    --no-drain) drain=0; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
if [[ "$protocol" == all ]]; then
  for p in grpc http http-json; do
    flags=(--protocol "$p" --duration "$duration" --rate "$rate" --build "$build")
    ((ingest_only)) && flags+=(--ingest-only)
    ((drain)) || flags+=(--no-drain)
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
# CPU ticks of the threads named $1 (e.g. strand-cutter).
thread_ticks() {
  local t=0 task
  for task in /proc/"$pid"/task/*; do
    [[ "$(cat "$task/comm" 2>/dev/null)" == "$1" ]] &&
      t=$((t + $(awk '{print $14 + $15}' "$task/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
io_field() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/io"; }
metric() { awk -v k="$1" '$1 == k {print $2}' <<<"$(curl -s "127.0.0.1:$api_port/metrics")"; }
endpoint="127.0.0.1:$grpc_port"
[[ "$protocol" != grpc ]] && endpoint="127.0.0.1:$http_port"
before=$(cpu_ticks) cut_before=$(thread_ticks strand-cutter) compact_before=$(thread_ticks strand-compact)
write_before=$(io_field write_bytes)
lg_json="$data.loadgen.json"
taskset -c 1 "$build/strand-loadgen" --endpoint "$endpoint" --protocol "$protocol" \
  --duration "$duration" --rate "$rate" --json-out "$lg_json" "${extra[@]}"
load_end=$SECONDS
load_ticks=$(cpu_ticks)
# Drain: no live span, then 12 s with the process idle (under 1% of a core).
drained=null
if ((drain)); then
  drained=false idle=0
  while ((SECONDS - load_end < 300)); do
    t0=$(cpu_ticks)
    sleep 2
    t1=$(cpu_ticks)
    live=$(metric strand_live_spans)
    if [[ "${live%.*}" == 0 ]] && ((t1 - t0 <= 2 * clk / 100)); then
      idle=$((idle + 1))
    else
      idle=0
    fi
    if ((idle >= 6)); then drained=true; break; fi
  done
fi
drain_seconds=$((SECONDS - load_end))
after=$(cpu_ticks) cut_after=$(thread_ticks strand-cutter) compact_after=$(thread_ticks strand-compact)
write_after=$(io_field write_bytes)
metrics="$(curl -s "127.0.0.1:$api_port/metrics")"
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
m() { awk -v k="$1" '$1 == k {print $2}' <<<"$metrics"; }
wal_bytes=$(m strand_wal_bytes_written_total)
fsyncs=$(m strand_wal_fsyncs_total)
block_bytes=$(m strand_block_bytes) blocks=$(m strand_blocks) block_spans=$(m strand_block_spans)
compacted_spans=$(m strand_compaction_spans_total)
accepted=$(awk '/^strand_receiver_spans_accepted_total/ {s += $2} END {print s + 0}' <<<"$metrics")

secs() { awk -v a="$1" -v b="$2" -v c="$clk" 'BEGIN {printf "%.3f", (a - b) / c}'; }
cpu_s=$(secs "$after" "$before") load_cpu_s=$(secs "$load_ticks" "$before")
cut_s=$(secs "$cut_after" "$cut_before") compact_s=$(secs "$compact_after" "$compact_before")
python3 - "$lg_json" "$json_out" "$protocol" "$hwm_kb" "$accepted" <<PY
import json, sys
lg_path, out, proto, hwm_kb, accepted = sys.argv[1:]
lg = json.load(open(lg_path))
accepted = int(float(accepted))
cpu_s, cut_s, compact_s = $cpu_s, $cut_s, $compact_s
ingest_s = cpu_s - cut_s - compact_s
wal = float("${wal_bytes:-0}" or 0)
written = float($write_after - $write_before)
block_bytes = float("${block_bytes:-0}" or 0)
def per(a, b, nd=1):
    return round(a / b, nd) if b else None
res = {
    "protocol": proto,
    "end_to_end": $drain == 1,
    "drained": {"true": True, "false": False}.get("$drained"),
    "drain_seconds": $drain_seconds,
    "spans_acknowledged": accepted,
    "strand_cpu_seconds": cpu_s,
    "cpu_seconds_during_load": $load_cpu_s,
    "cpu_seconds_by_thread": {"ingest": round(ingest_s, 3), "cutter": cut_s,
                              "compaction": compact_s},
    "background_cpu_seconds": round(cut_s + compact_s, 3),
    "spans_per_cpu_second": round(accepted / cpu_s) if cpu_s > 0 else None,
    "ingest_spans_per_cpu_second": round(accepted / ingest_s) if ingest_s > 0 else None,
    "peak_rss_mb": round(int(hwm_kb) / 1024, 1),
    "wal_bytes_per_span": per(wal, accepted),
    "wal_fsyncs": int(float("${fsyncs:-0}" or 0)),
    "blocks": int(float("${blocks:-0}" or 0)),
    "block_spans": int(float("${block_spans:-0}" or 0)),
    "block_bytes_per_span": per(block_bytes, float("${block_spans:-0}" or 0)),
    # Spans written by compaction per span stored: how often a span was merged.
    "compactions_per_span": per(float("${compacted_spans:-0}" or 0), float("${block_spans:-0}" or 0), 2),
    "disk_bytes_written": int(written),
    "write_amplification": per(written - wal, block_bytes, 2),
    "write_amplification_with_wal": per(written, block_bytes, 2),
    "loadgen": lg,
}
json.dump(res, open(out, "w"), indent=2)
lat = lg.get("latency_ms", {})
print(f"\n{'protocol':<30}{proto}")
for k in ["end_to_end", "drained", "drain_seconds", "spans_acknowledged", "strand_cpu_seconds",
          "cpu_seconds_during_load", "cpu_seconds_by_thread", "spans_per_cpu_second",
          "ingest_spans_per_cpu_second", "peak_rss_mb", "wal_bytes_per_span", "wal_fsyncs",
          "blocks", "block_spans", "block_bytes_per_span", "compactions_per_span",
          "write_amplification",
          "write_amplification_with_wal"]:
    print(f"{k:<30}{res[k]}")
for k in ["p50", "p90", "p99", "max"]:
    if k in lat:
        print(f"{'ack latency ' + k + ' ms':<30}{lat[k]}")
print(f"(written to {out})")
PY
