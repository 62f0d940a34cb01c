#!/usr/bin/env python3
"""Trace-by-ID latency client for bench/trace_by_id.sh.

Looks trace IDs up one at a time over one keep-alive HTTP connection
(GET /api/traces/<id> and /api/v2/traces/<id>, JSON answers), checks every answer (a
stored ID: 200 with --spans-per-trace spans; a random absent ID: 404) and reports the
latency percentiles of each pass: time from sending the request to having read the whole
answer, as the client sees it.

Passes: a warm-up over every ID (not reported), then each endpoint with a warm page cache
("warm"); as root, optionally "cold-once" (the page cache dropped once, then --cold-ids
stored IDs) and "cold-each" (the page cache dropped before each of --cold-each lookups).
"""
import argparse
import http.client
import json
import math
import os
import random
import sys
import time


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    # Nearest rank: the smallest value with at least q of the values at or below it.
    rank = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[rank]


def count_spans(node):
    """Spans in a Tempo trace JSON answer (v1 {batches} or v2 {trace: {batches}})."""
    if isinstance(node, dict):
        total = 0
        for key, value in node.items():
            if key == "spans" and isinstance(value, list):
                total += len(value)
            else:
                total += count_spans(value)
        return total
    if isinstance(node, list):
        return sum(count_spans(v) for v in node)
    return 0


def drop_page_cache():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


class Client:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.conn = http.client.HTTPConnection(host, port, timeout=60)

    def get(self, path):
        """(status, body, seconds); reconnects once if the server closed the connection."""
        for attempt in range(2):
            try:
                start = time.perf_counter()
                self.conn.request("GET", path, headers={"Accept": "application/json"})
                resp = self.conn.getresponse()
                body = resp.read()
                return resp.status, body, time.perf_counter() - start
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")


def run_pass(client, name, prefix, lookups, spans_per_trace, before_each=None):
    """lookups: [(hex id, present)]. Returns the pass's figures and the errors found."""
    present_ms, absent_ms, errors, timed = [], [], [], []
    for position, (trace_id, present) in enumerate(lookups):
        if before_each:
            before_each()
        status, body, seconds = client.get(prefix + trace_id)
        timed.append((seconds * 1000, position, trace_id, present))
        if present:
            present_ms.append(seconds * 1000)
            if status != 200:
                errors.append(f"{name}: {trace_id}: HTTP {status}: {body[:200]!r}")
                continue
            spans = count_spans(json.loads(body))
            if spans != spans_per_trace:
                errors.append(f"{name}: {trace_id}: {spans} spans, want {spans_per_trace}")
        else:
            absent_ms.append(seconds * 1000)
            if status != 404:
                errors.append(f"{name}: absent {trace_id}: HTTP {status}, want 404")
    result = {"pass": name, "path": prefix + "<id>"}
    for label, values in (("present", present_ms), ("absent", absent_ms)):
        if not values:
            continue
        values.sort()
        result[label] = {
            "lookups": len(values),
            "p50_ms": round(percentile(values, 0.50), 3),
            "p90_ms": round(percentile(values, 0.90), 3),
            "p99_ms": round(percentile(values, 0.99), 3),
            "max_ms": round(values[-1], 3),
            "mean_ms": round(sum(values) / len(values), 3),
        }
    # Where the slowest lookups fell in the pass (a cold start shows as early positions).
    result["slowest"] = [
        {"ms": round(ms, 3), "position": pos, "id": tid, "present": pres}
        for ms, pos, tid, pres in sorted(timed, reverse=True)[:5]
    ]
    result["errors"] = len(errors)
    return result, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ids", required=True, help="stored trace IDs, hex, one per line")
    ap.add_argument("--limit", type=int, default=0, help="use at most this many stored IDs")
    ap.add_argument("--absent", type=int, default=1000, help="random IDs that are not stored")
    ap.add_argument("--spans-per-trace", type=int, default=10)
    ap.add_argument("--cold-ids", type=int, default=0,
                    help="as root: drop the page cache once, then look up this many IDs")
    ap.add_argument("--cold-each", type=int, default=0,
                    help="as root: drop the page cache before each of this many lookups")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json-out")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    with open(args.ids) as f:
        stored = [line.strip().lower() for line in f if line.strip()]
    rng.shuffle(stored)
    if args.limit:
        stored = stored[: args.limit]
    stored_set = set(stored)
    absent = []
    while len(absent) < args.absent:
        candidate = "%032x" % rng.getrandbits(128)
        if candidate not in stored_set:
            absent.append(candidate)
    lookups = [(i, True) for i in stored] + [(i, False) for i in absent]
    rng.shuffle(lookups)

    client = Client(args.host, args.port)
    passes, all_errors = [], []

    def record(result_errors):
        result, errors = result_errors
        passes.append(result)
        all_errors.extend(errors)

    # Warm-up: reads every row group the lookups need into the page cache.
    t0 = time.perf_counter()
    warm_up, errors = run_pass(client, "warm-up", "/api/traces/", lookups, args.spans_per_trace)
    all_errors.extend(errors)
    print(f"warm-up: {len(lookups)} lookups in {time.perf_counter() - t0:.1f} s, "
          f"p50 {warm_up.get('present', {}).get('p50_ms')} ms", file=sys.stderr)
    record(run_pass(client, "warm", "/api/traces/", lookups, args.spans_per_trace))
    record(run_pass(client, "warm", "/api/v2/traces/", lookups, args.spans_per_trace))

    is_root = os.geteuid() == 0
    cold_note = None
    if (args.cold_ids or args.cold_each) and not is_root:
        cold_note = "cold passes skipped: not root (cannot drop the page cache)"
        print(cold_note, file=sys.stderr)
    if is_root and args.cold_ids:
        cold = [(i, True) for i in stored[: args.cold_ids]]
        drop_page_cache()
        record(run_pass(client, "cold-once", "/api/v2/traces/", cold,
                        args.spans_per_trace))
    if is_root and args.cold_each:
        cold = [(i, True) for i in stored[-args.cold_each:]]
        record(run_pass(client, "cold-each",
                        "/api/v2/traces/", cold, args.spans_per_trace,
                        before_each=drop_page_cache))

    print(f"\n{'pass':<20}{'path':<22}{'ids':>6}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}"
          "  (ms)")
    for p in passes:
        for label in ("present", "absent"):
            if label not in p:
                continue
            s = p[label]
            print(f"{p['pass'] + ' ' + label:<20}{p['path']:<22}{s['lookups']:>6}"
                  f"{s['p50_ms']:>9.2f}{s['p90_ms']:>9.2f}{s['p99_ms']:>9.2f}{s['max_ms']:>9.2f}")
    for e in all_errors[:20]:
        print("ERROR", e, file=sys.stderr)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"passes": passes, "errors": len(all_errors), "root": is_root,
                       "cold_note": cold_note}, f, indent=2)
    return 1 if all_errors else 0


if __name__ == "__main__":
    sys.exit(main())
