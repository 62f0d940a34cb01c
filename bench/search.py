#!/usr/bin/env python3
"""Search benchmark client: times TraceQL searches, tag names and tag values against a
running Strand, and how soon an acknowledged span is searchable.

Queries run one at a time over a keep-alive connection: one warm-up, then --runs timed
runs each. For every query it records client-side p50 and max latency, the answer's
trace count and Strand's own search metrics (spans inspected, row groups filtered /
decoded / skipped), and stored spans per second (the stored spans divided by the p50).

Freshness: --probes times posts one small OTLP/JSON trace with a unique attribute, and
from its acknowledgement (HTTP 200) polls /api/search for it until it is found.

Writes JSON (--json-out) and prints a table.
"""
import argparse
import http.client
import json
import os
import statistics
import time
import urllib.parse

QUERIES = [
    # (name, TraceQL, limit)
    ("5xx (issue), limit 20", "{ span.http.status_code >= 500 }", 20),
    ("checkout >100ms (issue), limit 20",
     '{ resource.service.name = "checkout" && duration > 100ms }', 20),
    ("5xx, every match", "{ span.http.status_code >= 500 }", 1000000),
    ("checkout >100ms, every match",
     '{ resource.service.name = "checkout" && duration > 100ms }', 1000000),
    # The generated data has no span over 100ms, so statistics answer the second
    # query at once; 50ms is a threshold that matches.
    ("checkout >50ms, limit 20",
     '{ resource.service.name = "checkout" && duration > 50ms }', 20),
    ("checkout >50ms, every match",
     '{ resource.service.name = "checkout" && duration > 50ms }', 1000000),
    ("no match: status 404", "{ span.http.status_code = 404 }", 20),
    ("no match: order id", '{ span.app.order.id = "no-such-order" }', 20),
    ("no match: regex on url", '{ span.http.url =~ ".*/no-such-path" }', 20),
    ("no match: span name", '{ name = "no-such-span" }', 20),
    ("structural: frontend >> error, limit 20",
     '{ resource.service.name = "frontend" } >> { status = error }', 20),
    ("pipeline: count() > 9, limit 20", "{ } | count() > 9", 20),
    ("every span {}, limit 20", "{ }", 20),
]

TAGS = [
    ("tag names v1", "/api/search/tags"),
    ("tag names v2", "/api/v2/search/tags"),
    ("values resource.service.name", "/api/v2/search/tag/resource.service.name/values"),
    ("values name", "/api/v2/search/tag/name/values"),
    ("values span.http.status_code", "/api/v2/search/tag/span.http.status_code/values"),
    ("values span.http.route", "/api/v2/search/tag/span.http.route/values"),
    ("values span.app.order.id", "/api/v2/search/tag/span.app.order.id/values"),
]


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def get(self, path):
        for attempt in range(2):
            try:
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
                if attempt:
                    raise


def timed(client, path, runs):
    t0 = time.perf_counter()
    status, body = client.get(path)  # the first call (caches empty), then warm runs
    first = time.perf_counter() - t0
    if status != 200:
        raise SystemExit(f"{path}: HTTP {status}: {body[:300]!r}")
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        status, body = client.get(path)
        times.append(time.perf_counter() - t0)
        if status != 200:
            raise SystemExit(f"{path}: HTTP {status}: {body[:300]!r}")
    return times, json.loads(body), first


def probe(api, otlp_port, runs):
    """Posts a trace and polls search for it from the acknowledgement on."""
    lat = []
    post = http.client.HTTPConnection("127.0.0.1", otlp_port, timeout=30)
    for i in range(runs):
        token = f"probe-{os.getpid()}-{i}-{time.time_ns()}"
        now = time.time_ns()
        req = {"resourceSpans": [{"resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "bench-probe"}}]},
            "scopeSpans": [{"spans": [{
                "traceId": os.urandom(16).hex(), "spanId": os.urandom(8).hex(),
                "name": "probe", "kind": 2,
                "startTimeUnixNano": str(now - 5_000_000), "endTimeUnixNano": str(now),
                "attributes": [{"key": "bench.probe", "value": {"stringValue": token}}]}]}]}]}
        post.request("POST", "/v1/traces", body=json.dumps(req),
                      headers={"Content-Type": "application/json"})
        r = post.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit(f"probe ingest: HTTP {r.status}")
        acked = time.perf_counter()
        q = urllib.parse.quote(f'{{ span.bench.probe = "{token}" }}')
        while True:
            status, body = api.get(f"/api/search?q={q}&limit=1")
            if status == 200 and json.loads(body)["traces"]:
                lat.append(time.perf_counter() - acked)
                break
            if time.perf_counter() - acked > 30:
                raise SystemExit("probe not searchable after 30 s")
    return lat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--otlp-http-port", type=int)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--probes", type=int, default=20)
    ap.add_argument("--stored-spans", type=int, required=True)
    ap.add_argument("--json-out", required=True)
    args = ap.parse_args()
    client = Client(args.port)
    out = {"stored_spans": args.stored_spans, "runs": args.runs, "queries": [], "tags": []}
    print(f"{'query':<42}{'p50 ms':>9}{'max ms':>9}{'traces':>8}{'M spans/s':>11}"
          f"{'insp. spans':>13}{'rg filt/dec/skip':>20}")
    for name, q, limit in QUERIES:
        path = f"/api/search?q={urllib.parse.quote(q)}&limit={limit}&spss=3"
        times, body, first = timed(client, path, args.runs)
        m = body.get("metrics", {})
        p50 = statistics.median(times)
        row = {"name": name, "q": q, "limit": limit, "first_ms": round(first * 1e3, 2),
               "p50_ms": round(p50 * 1e3, 2),
               "max_ms": round(max(times) * 1e3, 2), "traces": len(body["traces"]),
               "stored_spans_per_s": round(args.stored_spans / p50),
               "inspected_spans": int(m.get("inspectedSpans", 0)),
               "row_groups_filtered": m.get("rowGroupsFiltered"),
               "row_groups_decoded": m.get("rowGroupsDecoded"),
               "row_groups_skipped": m.get("rowGroupsSkipped")}
        out["queries"].append(row)
        print(f"{name:<42}{row['p50_ms']:>9.1f}{row['max_ms']:>9.1f}{row['traces']:>8}"
              f"{row['stored_spans_per_s'] / 1e6:>11.1f}{row['inspected_spans']:>13}"
              f"{'%s/%s/%s' % (row['row_groups_filtered'], row['row_groups_decoded'], row['row_groups_skipped']):>20}")
    print()
    print(f"{'tags':<42}{'p50 ms':>9}{'max ms':>9}{'values':>8}{'first ms':>10}")
    for name, path in TAGS:
        times, body, first = timed(client, path, args.runs)
        n = len(body.get("tagValues", body.get("tagNames", body.get("scopes", []))))
        row = {"name": name, "path": path, "p50_ms": round(statistics.median(times) * 1e3, 2),
               "max_ms": round(max(times) * 1e3, 2), "count": n,
               "first_ms": round(first * 1e3, 2)}
        out["tags"].append(row)
        print(f"{name:<42}{row['p50_ms']:>9.1f}{row['max_ms']:>9.1f}{n:>8}{row['first_ms']:>10.1f}")
    if args.otlp_http_port and args.probes:
        lat = probe(client, args.otlp_http_port, args.probes)
        out["ack_to_searchable_ms"] = {"p50": round(statistics.median(lat) * 1e3, 2),
                                       "p99": round(percentile(lat, 0.99) * 1e3, 2),
                                       "max": round(max(lat) * 1e3, 2), "probes": len(lat)}
        print(f"\nack -> searchable: {out['ack_to_searchable_ms']}")
    json.dump(out, open(args.json_out, "w"), indent=2)


if __name__ == "__main__":
    main()
