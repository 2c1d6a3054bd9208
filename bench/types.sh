#!/usr/bin/env bash
# Builds the demo's live, boot and DVD ISOs cold (empty cache) and warm (same
# request again, same cache), and prints each build's time and ISO size.
#   bench/types.sh            # xz
#   COMP=zstd bench/types.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FBS=${FBS:-bin/fbs}
COMP=${COMP:-xz}
CACHE=${BENCH_CACHE:-/var/cache/fbs-bench}
OUT=$(mktemp -d /var/tmp/fbs-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
"$FBS" demo repo "$CACHE/demo-repo" --cache "$CACHE" >/dev/null
echo "demo images, $COMP, $(nproc) cores"
for type in live boot dvd; do
	dir=$OUT/$type; mkdir -p "$dir"
	"$FBS" demo request "$dir/req" --cache "$CACHE" --type "$type" --compression "$COMP" > "$dir/path"
	for run in cold warm; do
		t0=$(date +%s.%N)
		"$FBS" build "$(cat "$dir/path")" --cache "$dir/cache" --work "$dir/work" > "$dir/$run.out" 2>&1
		t=$(echo "$(date +%s.%N) - $t0" | bc)
		size=$(awk '/\.iso \(/ {gsub(/[()]/,""); print $(NF-1), $NF}' "$dir/$run.out")
		printf '%-5s %-5s %6.2fs  ISO %s  ' "$type" "$run" "$t" "$size"
		awk '/^  [a-z-]+ +[0-9.]+s/ {printf "%s %s  ", $1, $2}' "$dir/$run.out"
		echo
		rm -rf "$dir/work"
	done
done
