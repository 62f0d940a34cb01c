#include "loadgen/report.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json_writer.h"

namespace strand::loadgen {
namespace {

double Ms(int64_t nanos) { return static_cast<double>(nanos) / 1e6; }

double AckedRate(const RunReport& r) {
  return r.elapsed_s > 0 ? static_cast<double>(r.stats.spans_acked) / r.elapsed_s : 0;
}

std::string Grouped(uint64_t n) {
  std::string digits = absl::StrCat(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// A JSON number that is never NaN or infinite.
std::string Num(double v) {
  if (!(v == v) || v > 1e300 || v < -1e300) return "null";
  return absl::StrFormat("%.6g", v);
}

}  // namespace

std::string FormatTable(const RunReport& r) {
  const LoadConfig& c = r.config;
  const RunStats& s = r.stats;
  std::string out;
  absl::StrAppendFormat(
      &out, "strand-loadgen: %s to %s, %d worker(s) x %d in flight, %s, %.1f s%s\n",
      ProtocolName(c.protocol), c.endpoint, c.workers, c.inflight,
      c.rate > 0 ? absl::StrCat(Grouped(static_cast<uint64_t>(c.rate)), " spans/s target")
                 : std::string("unthrottled"),
      std::chrono::duration<double>(c.duration).count(), c.gzip ? ", gzip" : "");
  absl::StrAppendFormat(
      &out, "  %-10s %d traces x %d spans per request (%d spans), %d services, seed %d\n", "data",
      c.generator.traces_per_request, c.generator.spans_per_trace, r.spans_per_request,
      c.generator.services, c.generator.seed);
  absl::StrAppendFormat(&out, "  %-10s sent %s   ok %s   failed %s\n", "requests",
                        Grouped(s.requests_sent), Grouped(s.requests_ok),
                        Grouped(s.requests_failed));
  absl::StrAppendFormat(&out, "  %-10s sent %s   acknowledged %s   rejected %s   failed %s\n",
                        "spans", Grouped(s.spans_sent), Grouped(s.spans_acked),
                        Grouped(s.spans_rejected), Grouped(s.spans_failed));
  for (const auto& [status, n] : s.failures) {
    auto it = s.failure_messages.find(status);
    absl::StrAppendFormat(&out, "  %-10s %s x %s: %s\n", "failure", status, Grouped(n),
                          it == s.failure_messages.end() ? "" : it->second.substr(0, 160));
  }
  if (r.connect_failures > 0) {
    absl::StrAppendFormat(&out, "  %-10s %d worker(s) could not connect within 5 s\n", "warning",
                          r.connect_failures);
  }
  absl::StrAppendFormat(&out, "  %-10s %s spans/s acknowledged (%.1f requests/s) over %.2f s\n",
                        "rate", Grouped(static_cast<uint64_t>(AckedRate(r))),
                        r.elapsed_s > 0 ? static_cast<double>(s.requests_ok) / r.elapsed_s : 0,
                        r.elapsed_s);
  const LatencyHistogram& h = s.latency;
  absl::StrAppendFormat(&out,
                        "  %-10s p50 %.2f ms   p90 %.2f ms   p99 %.2f ms   p99.9 %.2f ms   max "
                        "%.2f ms   (mean %.2f ms, %s requests)\n",
                        "latency", Ms(h.Percentile(0.5)), Ms(h.Percentile(0.9)),
                        Ms(h.Percentile(0.99)), Ms(h.Percentile(0.999)), Ms(h.max()),
                        h.mean() / 1e6, Grouped(h.count()));
  absl::StrAppendFormat(&out, "  %-10s %.1f bytes/span encoded, %.1f bytes/span on the wire%s\n",
                        "size", r.body_bytes_per_span, r.wire_bytes_per_span,
                        r.wire_bytes_estimated ? " (estimated)" : "");
  absl::StrAppendFormat(&out, "  %-10s %.2f CPU s (%.1f%% of a core) while sending; setup %.2f s\n",
                        "loadgen", r.loadgen_cpu_s,
                        r.elapsed_s > 0 ? 100 * r.loadgen_cpu_s / r.elapsed_s : 0, r.setup_s);
  if (r.server_measured) {
    const double cpu = r.server_delta.cpu_seconds;
    absl::StrAppendFormat(
        &out,
        "  %-10s pid %d: %.2f CPU s (%.1f%% of a core), %s spans per CPU-second; RSS %.1f MB, peak "
        "%.1f MB\n",
        "server", c.server_pid, cpu, r.elapsed_s > 0 ? 100 * cpu / r.elapsed_s : 0,
        cpu > 0 ? Grouped(static_cast<uint64_t>(static_cast<double>(s.spans_acked) / cpu))
                : std::string("-"),
        static_cast<double>(r.server_delta.rss_kb) / 1024.0,
        static_cast<double>(r.server_delta.peak_rss_kb) / 1024.0);
  }
  if (r.verified) {
    absl::StrAppendFormat(&out, "  %-10s %d of %d sampled traces came back whole", "verify",
                          r.verify.complete, r.verify.checked);
    if (r.verify.complete != r.verify.checked) {
      absl::StrAppendFormat(&out, " (%d not found, %d incomplete, %d errors)", r.verify.missing,
                            r.verify.incomplete, r.verify.errors);
    }
    out += '\n';
    for (const std::string& p : r.verify.problems) absl::StrAppend(&out, "             ", p, "\n");
  }
  return out;
}

std::string FormatJson(const RunReport& r) {
  const LoadConfig& c = r.config;
  const RunStats& s = r.stats;
  const LatencyHistogram& h = s.latency;
  std::string out = "{";
  absl::StrAppend(&out, "\"command\":", JsonString(c.command_line));
  absl::StrAppend(&out, ",\"protocol\":", JsonString(ProtocolName(c.protocol)));
  absl::StrAppend(&out, ",\"endpoint\":", JsonString(c.endpoint));
  absl::StrAppend(&out, ",\"workers\":", c.workers, ",\"inflight\":", c.inflight);
  absl::StrAppend(&out, ",\"target_spans_per_s\":", Num(c.rate));
  absl::StrAppend(&out, ",\"duration_s\":", Num(std::chrono::duration<double>(c.duration).count()));
  absl::StrAppend(&out, ",\"compression\":", JsonString(c.gzip ? "gzip" : "none"));
  absl::StrAppend(&out, ",\"traces_per_request\":", c.generator.traces_per_request,
                  ",\"spans_per_trace\":", c.generator.spans_per_trace,
                  ",\"spans_per_request\":", r.spans_per_request,
                  ",\"services\":", c.generator.services, ",\"seed\":", c.generator.seed,
                  ",\"id_salt\":", c.id_salt);
  absl::StrAppend(&out, ",\"elapsed_s\":", Num(r.elapsed_s), ",\"setup_s\":", Num(r.setup_s));
  absl::StrAppend(&out, ",\"requests\":{\"sent\":", s.requests_sent, ",\"ok\":", s.requests_ok,
                  ",\"failed\":", s.requests_failed, "}");
  absl::StrAppend(&out, ",\"spans\":{\"sent\":", s.spans_sent, ",\"acknowledged\":", s.spans_acked,
                  ",\"rejected\":", s.spans_rejected, ",\"failed\":", s.spans_failed, "}");
  out += ",\"failures\":{";
  bool first = true;
  for (const auto& [status, n] : s.failures) {
    if (!first) out += ',';
    first = false;
    auto it = s.failure_messages.find(status);
    absl::StrAppend(&out, JsonString(status), ":{\"count\":", n, ",\"first_message\":",
                    JsonString(it == s.failure_messages.end() ? "" : it->second), "}");
  }
  out += "}";
  absl::StrAppend(&out, ",\"spans_per_s\":", Num(AckedRate(r)));
  absl::StrAppend(&out, ",\"requests_per_s\":",
                  Num(r.elapsed_s > 0 ? static_cast<double>(s.requests_ok) / r.elapsed_s : 0));
  absl::StrAppend(&out, ",\"latency_ms\":{\"count\":", h.count(), ",\"mean\":", Num(h.mean() / 1e6),
                  ",\"min\":", Num(Ms(h.min())), ",\"p50\":", Num(Ms(h.Percentile(0.5))),
                  ",\"p90\":", Num(Ms(h.Percentile(0.9))), ",\"p99\":", Num(Ms(h.Percentile(0.99))),
                  ",\"p999\":", Num(Ms(h.Percentile(0.999))), ",\"max\":", Num(Ms(h.max())), "}");
  absl::StrAppend(&out, ",\"body_bytes_per_span\":", Num(r.body_bytes_per_span),
                  ",\"wire_bytes_per_span\":", Num(r.wire_bytes_per_span),
                  ",\"wire_bytes_estimated\":", r.wire_bytes_estimated ? "true" : "false");
  absl::StrAppend(&out, ",\"loadgen_cpu_s\":", Num(r.loadgen_cpu_s));
  if (r.server_measured) {
    const double cpu = r.server_delta.cpu_seconds;
    absl::StrAppend(
        &out, ",\"server\":{\"pid\":", c.server_pid, ",\"cpu_s\":", Num(cpu),
        ",\"spans_per_cpu_s\":", Num(cpu > 0 ? static_cast<double>(s.spans_acked) / cpu : 0),
        ",\"rss_mb\":", Num(static_cast<double>(r.server_delta.rss_kb) / 1024.0),
        ",\"peak_rss_mb\":", Num(static_cast<double>(r.server_delta.peak_rss_kb) / 1024.0), "}");
  }
  out += ",\"intervals\":[";
  for (size_t i = 0; i < r.intervals.size(); ++i) {
    const IntervalSample& iv = r.intervals[i];
    if (i > 0) out += ',';
    absl::StrAppend(&out, "{\"at_s\":", Num(iv.at_s), ",\"spans_per_s\":", Num(iv.spans_per_s),
                    ",\"failed_requests\":", iv.failed_requests);
    if (iv.server_rss_mb >= 0) {
      absl::StrAppend(&out, ",\"server_cpu\":", Num(iv.server_cpu_fraction),
                      ",\"server_rss_mb\":", Num(iv.server_rss_mb));
    }
    out += "}";
  }
  out += "]";
  if (r.verified) {
    absl::StrAppend(&out, ",\"verify\":{\"checked\":", r.verify.checked,
                    ",\"complete\":", r.verify.complete, ",\"missing\":", r.verify.missing,
                    ",\"incomplete\":", r.verify.incomplete, ",\"errors\":", r.verify.errors,
                    ",\"problems\":[");
    for (size_t i = 0; i < r.verify.problems.size(); ++i) {
      if (i > 0) out += ',';
      out += JsonString(r.verify.problems[i]);
    }
    out += "]}";
  }
  out += "}\n";
  return out;
}

}  // namespace strand::loadgen
