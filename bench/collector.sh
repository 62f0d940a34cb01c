#!/usr/bin/env bash
# Collector benchmark driver: Strand as an OpenTelemetry Collector gateway.
#
#   bench/collector.sh [--mode passthrough|overload] [--duration 30s] [--rate 0]
#                      [--compression gzip|none] [--build build] [--json-out FILE]
#                      [-- extra loadgen flags]
#
# passthrough: strand-loadgen → collector (otlp receiver → memory_limiter → batch → otlp
#   exporter, compression as given: gzip is otelcol's default) → a sink (a second Strand
#   whose pipeline ends in the debug exporter). The collector is pinned to core 0; the
#   load generator and the sink share core 1. Reports spans the collector forwarded (and
#   the next hop acknowledged) per CPU-second of the collector, and its peak RSS.
# overload: the same collector with its backend unreachable and a large in-memory queue,
#   blasted by the load generator: memory_limiter (limit_mib 400, spike_limit_mib 80,
#   check_interval 1s) must refuse with UNAVAILABLE. Reports peak RSS against the limit
#   and how many requests were accepted and refused.
#
# Prints a table and writes JSON (default bench/results/collector-<mode>.json).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
mode=passthrough duration=30s rate=0 build="$root/build" json_out="" compression=gzip extra=()
while (($#)); do
  case "$1" in
    --mode) mode="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --compression) compression="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --json-out) json_out="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
json_out="${json_out:-$here/results/collector-$mode.json}"
mkdir -p "$(dirname "$json_out")"
work="$(mktemp -d /tmp/strand-bench-collector.XXXXXX)"
recv=$(free_port) sink=$(free_port) metrics_port=$(free_port) hc=$(free_port) sink_hc=$(free_port)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_healthy() { for _ in $(seq 200); do curl -sf "127.0.0.1:$1/" >/dev/null && return 0; sleep 0.05; done; return 1; }

if [[ "$mode" == passthrough ]]; then
  cat >"$work/sink.yaml" <<YAML
extensions:
  health_check: {endpoint: "127.0.0.1:$sink_hc"}
receivers:
  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:$sink", max_recv_msg_size_mib: 64}}}
exporters:
  debug: {verbosity: basic, sampling_initial: 0, sampling_thereafter: 1000000}
service:
  telemetry: {metrics: {level: none}}
  extensions: [health_check]
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
YAML
  taskset -c 1 "$build/strand" --config "$work/sink.yaml" --log-level warn >"$work/sink.log" 2>&1 &
  pids+=($!)
  wait_healthy "$sink_hc"
  backend="127.0.0.1:$sink"
  limiter="{check_interval: 1s, limit_mib: 1024}"
  queue="{}"
else
  backend="127.0.0.1:$(free_port)"  # nothing listens there
  limiter="{check_interval: 1s, limit_mib: 400, spike_limit_mib: 80}"
  queue="{queue_size: 1000000}"
fi
cat >"$work/collector.yaml" <<YAML
extensions:
  health_check: {endpoint: "127.0.0.1:$hc"}
receivers:
  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:$recv"}}}
processors:
  memory_limiter: $limiter
  batch: {}
exporters:
  otlp:
    endpoint: $backend
    tls: {insecure: true}
    compression: $compression
    sending_queue: $queue
    retry_on_failure: {initial_interval: 1s, max_elapsed_time: 0}
service:
  telemetry: {metrics: {address: "127.0.0.1:$metrics_port"}}
  extensions: [health_check]
  pipelines:
    traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}
YAML
taskset -c 0 "$build/strand" --config "$work/collector.yaml" --log-level warn >"$work/collector.log" 2>&1 &
pid=$!
pids+=("$pid")
wait_healthy "$hc"

clk=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(cpu_ticks)
lg_flags=(--endpoint "127.0.0.1:$recv" --duration "$duration" --rate "$rate" --json-out "$work/lg.json")
[[ "$mode" == overload ]] && lg_flags+=(--workers 4 --inflight 16 --timeout 30s)
taskset -c 1 "$build/strand-loadgen" "${lg_flags[@]}" "${extra[@]}"
# Let the batch processor's last batch (200 ms) and the queue drain before counting.
[[ "$mode" == passthrough ]] && sleep 2
after=$(cpu_ticks)
metrics="$(curl -s "127.0.0.1:$metrics_port/metrics")"
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
sent=$(awk '$1 ~ /^strand_exporter_sent_spans_total/ {print $2}' <<<"$metrics")
accepted=$(awk '$1 ~ /outcome="accepted"/ {print $2}' <<<"$metrics")
refused=$(awk '$1 ~ /outcome="refused"/ {print $2}' <<<"$metrics")
refused_requests=$(awk '$1 ~ /^strand_processor_refused_requests_total/ {s += $2} END {print s + 0}' <<<"$metrics")
cpu_s=$(awk -v a="$after" -v b="$before" -v c="$clk" 'BEGIN {printf "%.3f", (a - b) / c}')
python3 - "$work/lg.json" "$json_out" "$mode" "$compression" "$cpu_s" "$hwm_kb" "${sent:-0}" \
  "${accepted:-0}" "${refused:-0}" "$refused_requests" <<'PY'
import json, sys
lg_path, out, mode, compression, cpu_s, hwm_kb, sent, accepted, refused, refused_req = sys.argv[1:]
lg = json.load(open(lg_path))
cpu_s = float(cpu_s)
sent, accepted, refused = int(float(sent)), int(float(accepted)), int(float(refused))
res = {
    "mode": mode,
    "compression": compression,
    "spans_accepted": accepted,
    "spans_refused_in_pipeline": refused,
    "requests_refused_before_decoding": int(float(refused_req)),
    "spans_forwarded": sent,
    "collector_cpu_seconds": cpu_s,
    "forwarded_spans_per_cpu_second": round(sent / cpu_s) if cpu_s > 0 and sent else None,
    "accepted_spans_per_cpu_second": round(accepted / cpu_s) if cpu_s > 0 else None,
    "peak_rss_mb": round(int(hwm_kb) / 1024, 1),
    "loadgen": lg,
}
json.dump(res, open(out, "w"), indent=2)
print(f"\n{'mode':<34}{mode} (compression {compression})")
for k in ["spans_accepted", "spans_refused_in_pipeline", "requests_refused_before_decoding",
          "spans_forwarded", "collector_cpu_seconds", "forwarded_spans_per_cpu_second",
          "accepted_spans_per_cpu_second", "peak_rss_mb"]:
    print(f"{k:<34}{res[k]}")
lat = lg.get("latency_ms", {})
for k in ["p50", "p99"]:
    if k in lat:
        print(f"{'ack latency ' + k + ' ms':<34}{lat[k]}")
print(f"(written to {out})")
PY
