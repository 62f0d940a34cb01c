#include "common/arena.h"

#include <gtest/gtest.h>

#include <string>

namespace strand {
namespace {

TEST(ArenaTest, CopiesStayValidAcrossManyAllocations) {
  Arena arena;
  std::vector<std::string_view> views;
  for (int i = 0; i < 10000; ++i) views.push_back(arena.Copy("value-" + std::to_string(i)));
  for (int i = 0; i < 10000; ++i) EXPECT_EQ(views[i], "value-" + std::to_string(i));
  EXPECT_GT(arena.MemoryUsage(), 10000u * 8);
}

TEST(ArenaTest, LargeAllocationGetsOwnBlock) {
  Arena arena;
  std::string big(1 << 20, 'x');
  auto v = arena.Copy(big);
  EXPECT_EQ(v, big);
  auto small = arena.Copy("abc");
  EXPECT_EQ(small, "abc");
}

TEST(ArenaTest, EmptyCopyIsEmpty) {
  Arena arena;
  EXPECT_TRUE(arena.Copy("").empty());
  EXPECT_EQ(arena.MemoryUsage(), 0u);
}

}  // namespace
}  // namespace strand
