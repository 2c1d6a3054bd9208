#!/usr/bin/env bash
# The queue of the distributed mode: claim latency (submission to a remote
# worker holding the build, 10 idle workers long-polling over HTTP) on SQLite
# and on PostgreSQL (LISTEN/NOTIFY wake-ups), and claims per second with 100
# claimers at once on PostgreSQL. PostgreSQL is started from Debian's packages.
#   bench/queue.sh            # 1000 builds each
#   N=5000 bench/queue.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}
echo "queue, $(nproc) cores, $N builds each"
go test -run '^$' -bench 'ClaimLatency' -benchtime "${N}x" ./internal/worker |
	awk '/^Benchmark/ {sub(/-[0-9]+$/, "", $1); sub(/BenchmarkClaimLatency\//, "", $1); printf "claim latency %-9s p50 %s ms  p99 %s ms\n", $1, $5, $7}'
go test -run '^$' -bench 'ClaimPostgres' -benchtime "${N}x" ./internal/store |
	awk '/^Benchmark/ {printf "100 claimers on postgres: %s claims/s (claim + finish)\n", $5}'
