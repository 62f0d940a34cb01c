// HashRing: the consistent-hash ring of the `loadbalancing` exporter. It maps a routing
// key (a trace ID's 16 bytes, or a service name) to one of a set of backend endpoints so
// that adding or removing one backend moves only the keys of that backend's arcs (about
// 1/n of them).
//
// The placement is otelcol contrib's, so that Strand and otelcol load balancers in one
// fleet send a trace to the same backend: the ring has 36,000 positions; each endpoint
// takes 100 points, point i at CRC-32 (IEEE) of the endpoint's bytes followed by the
// byte i, modulo 36,000; endpoints are placed in sorted order and a point already taken
// stays with the endpoint that took it first. A key lives at CRC-32 of its bytes modulo
// 36,000 and belongs to the first point at or after that position, wrapping around.
//
// Immutable once built; thread-safe to share (the exporter swaps whole rings).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strand::pipeline {

class HashRing {
 public:
  static constexpr uint32_t kPositions = 36000;
  static constexpr int kPointsPerEndpoint = 100;

  HashRing() = default;
  // `endpoints` in any order; duplicates count once.
  explicit HashRing(std::vector<std::string> endpoints);

  bool empty() const { return points_.empty(); }
  // The sorted, distinct endpoints.
  const std::vector<std::string>& endpoints() const { return endpoints_; }
  // The endpoint that owns `key`; "" when the ring is empty.
  const std::string& EndpointFor(std::string_view key) const;
  // Where `key` lives on the ring: CRC-32 (IEEE) of its bytes modulo kPositions.
  static uint32_t PositionOf(std::string_view key);

 private:
  struct Point {
    uint32_t position;
    uint32_t endpoint;  // index into endpoints_
  };
  std::vector<std::string> endpoints_;
  std::vector<Point> points_;  // sorted by position, no two at the same position
};

}  // namespace strand::pipeline
