// BatchPolicy: how requests are joined into batches before they are sent (the `batch`
// processor's settings; see batch_processor.h for where batching happens).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace strand {

struct BatchPolicy {
  uint64_t send_batch_size = 8192;         // spans that trigger a send
  uint64_t send_batch_max_size = 0;        // largest batch in spans; 0 = no cap
  int64_t timeout_nanos = 200'000'000;     // send what is pending after this long; 0 = at once
  std::vector<std::string> metadata_keys;  // lower-case; a batch per distinct value set
  uint64_t metadata_cardinality_limit = 1000;
};

}  // namespace strand
