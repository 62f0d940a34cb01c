// Rng: a small seeded pseudo-random generator (splitmix64) whose output is the same on
// every platform and standard library, so a seed names the same data everywhere.
// Mix64 is splitmix64's finalizer, a bijection on 64-bit values. Not thread-safe.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace strand::testdata {

// The alphabet of lower-case hexadecimal identifiers, for Rng::Chars.
inline constexpr char kHexAlphabet[] = "0123456789abcdef";

inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() { return Mix64(state_ += 0x9e3779b97f4a7c15ULL); }
  // Uniform in [0, n); n > 0. The modulo bias is below 2^-40 for the sizes we use.
  uint64_t Below(uint64_t n) { return Next() % n; }
  // Uniform in [lo, hi], inclusive.
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Unit() < p; }
  // Log-uniform in [lo, hi]: durations and sizes look like this in practice.
  double LogUniform(double lo, double hi) { return lo * std::pow(hi / lo, Unit()); }

  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(N)];
  }
  // `n` characters drawn from `alphabet`.
  std::string Chars(size_t n, const char* alphabet) {
    const size_t size = std::strlen(alphabet);
    std::string out(n, ' ');
    for (char& c : out) c = alphabet[Below(size)];
    return out;
  }

 private:
  uint64_t state_;
};

}  // namespace strand::testdata
