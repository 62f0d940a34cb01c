// SecretEquals: compares a presented credential with a configured one without revealing,
// through the time it takes, how much of it matched. Both are hashed (SHA-256) and the
// digests compared with OpenSSL's CRYPTO_memcmp, so the time depends only on the lengths.
// Every comparison of a password, token or password hash in src/auth goes through it.
// Thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace strand::auth {

bool SecretEquals(std::string_view presented, std::string_view expected);

// Test-only: how many times SecretEquals ran in this process.
uint64_t SecretComparisonsForTest();

}  // namespace strand::auth
