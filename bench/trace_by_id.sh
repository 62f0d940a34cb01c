#!/usr/bin/env bash
# Trace-by-ID benchmark driver: fills a data directory with blocks of strand-loadgen's
# data (strand-blockgen, single-threaded at nice 10), starts Strand over it, reads its
# block-list memory from /metrics, and measures trace-by-ID latency over HTTP
# (bench/trace_by_id.py: GET /api/traces/<id> and /api/v2/traces/<id>, JSON, keep-alive,
# sampled stored IDs plus random absent ones; warm page cache, and as root cold passes).
#
#   bench/trace_by_id.sh [--spans 10000000] [--spans-per-block 2000000] [--data-dir DIR]
#                        [--keep] [--build build] [--limit N] [--absent 1000]
#                        [--cold-ids 1000] [--cold-each 100] [--pin] [--json-out FILE]
#                        [-- extra strand-blockgen flags]
#
# --pin puts Strand on core 0 and the client on core 1, as bench/ingest.sh does. It is off
# by default: one request at a time is latency-bound, and on a shared 2-core machine a
# pinned process waits for its core whenever another job (say, an ingest run pinned the
# same way) holds it, which adds milliseconds that are not Strand's.
#
# --data-dir reuses a directory this script filled before (it holds blockgen-ids.txt and
# blockgen.json); otherwise the data goes to a fresh /tmp directory, deleted at the end
# unless --keep. Compaction is off in the server under test so the measured blocks are the
# generated ones. Prints a table and writes JSON (default
# bench/results/trace-by-id-<spans>.json).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
spans=10000000 spans_per_block=2000000 data="" keep=0 build="$root/build" limit=0 absent=1000
cold_ids=1000 cold_each=100 json_out="" extra=() pin=0
while (($#)); do
  case "$1" in
    --spans) spans="$2"; shift 2 ;;
    --spans-per-block) spans_per_block="$2"; shift 2 ;;
    --data-dir) data="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --pin) pin=1; shift ;;
    --build) build="$2"; shift 2 ;;
    --limit) limit="$2"; shift 2 ;;
    --absent) absent="$2"; shift 2 ;;
    --cold-ids) cold_ids="$2"; shift 2 ;;
    --cold-each) cold_each="$2"; shift 2 ;;
    --json-out) json_out="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
json_out="${json_out:-$here/results/trace-by-id-$spans.json}"
mkdir -p "$(dirname "$json_out")"

created=0
if [[ -z "$data" ]]; then
  data="$(mktemp -d /tmp/strand-tbid.XXXXXX)"
  created=1
fi
ids="$data/blockgen-ids.txt" gen_json="$data/blockgen.json"
work="$(mktemp -d /tmp/strand-tbid-run.XXXXXX)"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
  if ((created && !keep)); then rm -rf "$data"; fi
}
trap cleanup EXIT

if [[ -f "$ids" && -f "$gen_json" ]]; then
  echo "reusing $data ($(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["spans"])' "$gen_json") spans)" >&2
else
  # One thread at low priority: the machine is shared.
  nice -n 10 "$build/strand-blockgen" --data-dir "$data" --spans "$spans" \
    --spans-per-block "$spans_per_block" --ids-out "$ids" --json-out "$gen_json" "${extra[@]}"
fi

grpc_port=$(free_port) http_port=$(free_port) api_port=$(free_port)
cat >"$work/strand.yaml" <<EOF
strand:
  store:
    compaction:
      enabled: false
EOF
server_cpu=() client_cpu=()
if ((pin)); then server_cpu=(taskset -c 0) client_cpu=(taskset -c 1); fi
start_ns=$(date +%s%N)
"${server_cpu[@]}" "$build/strand" --config "$work/strand.yaml" --data-dir "$data" \
  --otlp-grpc-listen "127.0.0.1:$grpc_port" --otlp-http-listen "127.0.0.1:$http_port" \
  --api-listen "127.0.0.1:$api_port" --log-level warn >"$work/strand.log" 2>&1 &
pid=$!
ready=0
for _ in $(seq 1200); do
  if curl -sf "127.0.0.1:$api_port/ready" >/dev/null; then ready=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if ((!ready)); then echo "strand did not become ready:" >&2; cat "$work/strand.log" >&2; exit 1; fi
startup_s=$(awk -v a="$(date +%s%N)" -v b="$start_ns" 'BEGIN {printf "%.2f", (a - b) / 1e9}')
curl -s "127.0.0.1:$api_port/metrics" >"$work/metrics-before.txt"
rss_before_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")

load_avg=$(cut -d' ' -f1-3 /proc/loadavg)  # the machine is shared: record how busy it was
rc=0
"${client_cpu[@]}" python3 "$here/trace_by_id.py" --port "$api_port" --ids "$ids" --limit "$limit" \
  --absent "$absent" --cold-ids "$cold_ids" --cold-each "$cold_each" \
  --json-out "$work/client.json" || rc=$?
curl -s "127.0.0.1:$api_port/metrics" >"$work/metrics-after.txt"
rss_after_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
du_bytes=$(du -sb "$data/blocks" | awk '{print $1}')

python3 - "$gen_json" "$work/client.json" "$work/metrics-before.txt" "$work/metrics-after.txt" \
  "$json_out" "$startup_s" "$rss_before_kb" "$rss_after_kb" "$hwm_kb" "$du_bytes" "$data" "$load_avg" "$pin" <<'PY'
import json, sys
(gen_path, client_path, before_path, after_path, out, startup_s, rss_before_kb, rss_after_kb,
 hwm_kb, du_bytes, data, load_avg, pinned) = sys.argv[1:]

def metrics(path):
    values = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        values[name] = float(value)
    return values

gen, client = json.load(open(gen_path)), json.load(open(client_path))
m = metrics(before_path)
block_bytes = m.get("strand_block_bytes", 0)
list_mem = m.get("strand_block_list_memory_bytes", 0)
res = {
    "data_dir": data,
    "blockgen": gen,
    "strand_blocks": int(m.get("strand_blocks", 0)),
    "strand_block_spans": int(m.get("strand_block_spans", 0)),
    "strand_block_bytes": int(block_bytes),
    "blocks_dir_du_bytes": int(du_bytes),
    "strand_block_list_memory_bytes": int(list_mem),
    "block_list_memory_pct_of_data": round(100 * list_mem / block_bytes, 3) if block_bytes else None,
    "startup_to_ready_s": float(startup_s),
    "rss_mb_before_lookups": round(int(rss_before_kb) / 1024, 1),
    "rss_mb_after_lookups": round(int(rss_after_kb) / 1024, 1),
    "peak_rss_mb": round(int(hwm_kb) / 1024, 1),
    "load_average_at_start": load_avg,
    "pinned": pinned == "1",
    "lookups": client,
}
after = metrics(after_path)
for route in ("trace_by_id_v1", "trace_by_id_v2"):
    key = 'strand_api_request_duration_seconds_%s{route="%s"}'
    s, c = after.get(key % ("sum", route)), after.get(key % ("count", route))
    if s is not None and c:
        res[f"server_mean_ms_{route}"] = round(1000 * s / c, 3)
        # Server-side share of all this route's lookups (every pass) within the bounds.
        for le in ("0.005", "0.025"):
            n = after.get('strand_api_request_duration_seconds_bucket{route="%s",le="%s"}'
                          % (route, le))
            if n is not None:
                res[f"server_share_within_{le}s_{route}"] = round(n / c, 4)
json.dump(res, open(out, "w"), indent=2)
print()
for k in ["strand_blocks", "strand_block_spans", "strand_block_bytes", "blocks_dir_du_bytes",
          "strand_block_list_memory_bytes", "block_list_memory_pct_of_data", "startup_to_ready_s",
          "rss_mb_before_lookups", "rss_mb_after_lookups", "peak_rss_mb",
          "server_mean_ms_trace_by_id_v1", "server_mean_ms_trace_by_id_v2",
          "server_share_within_0.005s_trace_by_id_v1", "server_share_within_0.025s_trace_by_id_v1",
          "server_share_within_0.005s_trace_by_id_v2", "server_share_within_0.025s_trace_by_id_v2",
          "load_average_at_start", "pinned"]:
    if k in res:
        print(f"{k:<44}{res[k]}")
print(f"{'bytes/span (data files)':<44}{block_bytes / max(1, res['strand_block_spans']):.2f}")
print(f"(written to {out})")
PY
exit "$rc"
