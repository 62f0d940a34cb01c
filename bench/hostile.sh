#!/usr/bin/env bash
# Hostile clients against a real Strand: an idle-connection flood under a 1,024-descriptor
# limit, slowloris, gzip bombs over gRPC and memory pressure (bench/hostile.mjs says what each measures).
# Usage: bench/hostile.sh [--strand build/strand] [--only idle-flood|slowloris|grpc-bomb|memory]
#        [--memory-limit BYTES]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# The client holds more connections than Strand may: give it room.
ulimit -n "$(ulimit -Hn)"
exec node "$here/hostile.mjs" "$@"
