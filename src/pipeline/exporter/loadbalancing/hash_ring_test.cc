#include "pipeline/exporter/loadbalancing/hash_ring.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace strand::pipeline {
namespace {

// Random 16-byte trace IDs, the same ones every run.
std::vector<std::string> TraceIds(int n) {
  std::mt19937_64 rng(42);
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    std::string id(16, '\0');
    for (char& c : id) c = static_cast<char>(rng());
    ids.push_back(std::move(id));
  }
  return ids;
}

std::vector<std::string> Backends(int n) {
  std::vector<std::string> out;
  for (int i = 1; i <= n; ++i) out.push_back("backend-" + std::to_string(i) + ":4317");
  return out;
}

TEST(HashRingTest, EmptyRingOwnsNothing) {
  HashRing ring;
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.EndpointFor("anything"), "");
}

TEST(HashRingTest, KeyPositionIsCrc32ModuloPositions) {
  // CRC-32 (IEEE) of "123456789" is the standard check value 0xCBF43926.
  EXPECT_EQ(HashRing::PositionOf("123456789"), 0xCBF43926u % HashRing::kPositions);
}

TEST(HashRingTest, AgreesWithOtelcolOnWhereKeysGo) {
  // Owners otelcol contrib's ring gives these keys over these two endpoints (from its
  // own published expectations), so mixed fleets route alike.
  HashRing ring({"endpoint-1", "endpoint-2"});
  EXPECT_EQ(ring.EndpointFor(std::string("\x01\x02\x00\x00", 4)), "endpoint-1");
  EXPECT_EQ(ring.EndpointFor(std::string("\x80\x80\x00\x00", 4)), "endpoint-2");
  EXPECT_EQ(ring.EndpointFor("ad-service-7"), "endpoint-1");
  EXPECT_EQ(ring.EndpointFor("get-recommendations-1"), "endpoint-2");
}

TEST(HashRingTest, SameKeyAlwaysReachesSameBackendWhateverTheListOrder) {
  HashRing a(Backends(4));
  std::vector<std::string> reversed = Backends(4);
  std::reverse(reversed.begin(), reversed.end());
  reversed.push_back("backend-2:4317");  // a duplicate counts once
  HashRing b(reversed);
  EXPECT_EQ(b.endpoints().size(), 4u);
  for (const std::string& id : TraceIds(2000)) {
    const std::string& owner = a.EndpointFor(id);
    EXPECT_FALSE(owner.empty());
    EXPECT_EQ(owner, a.EndpointFor(id));
    EXPECT_EQ(owner, b.EndpointFor(id));
  }
}

TEST(HashRingTest, KeysSpreadRoughlyEvenly) {
  for (int n : {2, 3, 5, 8}) {
    HashRing ring(Backends(n));
    std::map<std::string, int> counts;
    const int keys = 40000;
    for (const std::string& id : TraceIds(keys)) ++counts[ring.EndpointFor(id)];
    ASSERT_EQ(counts.size(), static_cast<size_t>(n));
    for (const auto& [endpoint, count] : counts) {
      const double share = static_cast<double>(count) / keys;
      EXPECT_GT(share, 0.6 / n) << n << " backends: " << endpoint;
      EXPECT_LT(share, 1.4 / n) << n << " backends: " << endpoint;
    }
  }
}

TEST(HashRingTest, AddingABackendMovesOnlyKeysToIt) {
  const int n = 4;
  HashRing before(Backends(n));
  HashRing after(Backends(n + 1));
  const std::string added = "backend-5:4317";
  int moved = 0;
  const std::vector<std::string> ids = TraceIds(20000);
  for (const std::string& id : ids) {
    const std::string& was = before.EndpointFor(id);
    const std::string& now = after.EndpointFor(id);
    if (was != now) {
      ++moved;
      EXPECT_EQ(now, added);  // a key only ever moves to the new backend
    }
  }
  const double share = static_cast<double>(moved) / ids.size();
  EXPECT_GT(share, 0.5 / (n + 1));
  EXPECT_LT(share, 1.5 / (n + 1));
}

TEST(HashRingTest, RemovingABackendMovesOnlyItsKeys) {
  const int n = 5;
  HashRing before(Backends(n));
  std::vector<std::string> rest = Backends(n);
  const std::string removed = rest[2];
  rest.erase(rest.begin() + 2);
  HashRing after(rest);
  int moved = 0;
  const std::vector<std::string> ids = TraceIds(20000);
  for (const std::string& id : ids) {
    const std::string& was = before.EndpointFor(id);
    if (was != after.EndpointFor(id)) {
      ++moved;
      EXPECT_EQ(was, removed);  // only the removed backend's keys move
    }
  }
  const double share = static_cast<double>(moved) / ids.size();
  EXPECT_GT(share, 0.5 / n);
  EXPECT_LT(share, 1.5 / n);
}

}  // namespace
}  // namespace strand::pipeline
