#include "auth/secret_compare.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <atomic>

namespace strand::auth {
namespace {

std::atomic<uint64_t> comparisons{0};

}  // namespace

bool SecretEquals(std::string_view presented, std::string_view expected) {
  comparisons.fetch_add(1, std::memory_order_relaxed);
  unsigned char a[SHA256_DIGEST_LENGTH];
  unsigned char b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
  return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

uint64_t SecretComparisonsForTest() { return comparisons.load(std::memory_order_relaxed); }

}  // namespace strand::auth
