#!/usr/bin/env bash
# What the libraries under `sluice bench http` cost on their own, on this machine, next to wrk:
# libcurl's client (curl_client.c) and the SQLite statements of one durable job (sqlite_writes.c).
# Usage: bench/floors/run.sh [URL] [CONCURRENCY]   (default: the peer harness's nginx /ok, 8)
# Start the peer harness's nginx first, or pass any URL that answers 200.
set -euo pipefail
cd "$(dirname "$0")/../.."
url=${1:-http://127.0.0.1:18080/ok}
concurrency=${2:-8}
out=.build/floors
mkdir -p "$out"
cc -O2 -Wall -o "$out/curl_client" bench/floors/curl_client.c -lcurl
cc -O2 -Wall -o "$out/sqlite_writes" bench/floors/sqlite_writes.c -lsqlite3
if command -v wrk > /dev/null; then
  wrk -t2 -c"$concurrency" -d5s "$url" | awk '/Requests\/sec/ { print "wrk req_per_s=" int($2) }'
else
  echo "wrk: not installed (apt-get install wrk), skipped"
fi
"$out/curl_client" "$url" 200000 "$concurrency"
"$out/sqlite_writes" migrations full 30000 20
"$out/sqlite_writes" migrations full 30000 500
"$out/sqlite_writes" migrations minimal 30000 20
