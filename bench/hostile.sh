#!/usr/bin/env bash
# Hostile clients against a real Strand: an idle-connection flood under a 1,024-descriptor
# limit, slowloris, and gzip bombs over gRPC (bench/hostile.mjs says what each measures).
# Usage: bench/hostile.sh [--strand build/strand] [--only idle-flood|slowloris|grpc-bomb]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# The client holds more connections than Strand may: give it room.
ulimit -n "$(ulimit -Hn)"
exec node "$here/hostile.mjs" "$@"
