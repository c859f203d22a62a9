#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the whole suite on a
# debug build, the drivers' conformance tests, short runs of the differential
# checker and the fuzzers, the whole suite again under AddressSanitizer +
# UBSan, then the concurrency and crash tests under ThreadSanitizer. This is
# what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

# The Node.js driver and mongosh for tests/node, exactly as the lockfile pins them.
(cd tests/node && npm ci --no-audit --no-fund --loglevel=error)

cmake --preset debug >/dev/null
cmake --build build/debug -j"$jobs"
ctest --test-dir build/debug --output-on-failure -j"$jobs"

# The drivers' specification tests (../shared/conformance) against docket
# serve, standalone and as a replica set: fails on any failure not listed in
# tests/node/unified/known_failures.json (skips where ../shared is absent).
DOCKET_BIN=build/debug/docket scripts/conformance.sh

# Short runs of the long checks, each of which has its own command for a long
# run (docs/testing.md): the differential and metamorphic query checker
# (random cases; the seed is printed), the wire fuzzer against a running
# server, and the libFuzzer targets (clang, ASan + UBSan): every seed and
# regression input once, then 10 s of fuzzing per target.
DOCKET_BIN=build/debug/docket scripts/differential.sh 300
DOCKET_BIN=build/debug/docket scripts/wire-fuzz.sh 1000
FUZZ_JOBS=$jobs fuzz/run_regressions.sh
FUZZ_JOBS=$jobs scripts/fuzz.sh 10

# Memory errors and undefined behaviour, everywhere (UBSan findings are fatal).
cmake --preset asan >/dev/null
cmake --build build/asan -j"$jobs"
ASAN_OPTIONS="detect_leaks=1" ctest --test-dir build/asan --output-on-failure -j"$jobs"

# The concurrency tests, instrumented; the server under TSan is driven by the
# Python clients from another process. (The C-driver test is left out here:
# uninstrumented libmongoc in the same process reports races inside the
# client's own topology code. It runs in the debug and ASan passes. For the
# same reason only the ODM's embedded cases and examples run here, and of
# server_cpp_tests only the thread pool's. RowCacheTest is left out too: the
# rows its reader copies into the point cache come from table blocks that the
# writer's thread decompressed inside uninstrumented librocksdb and RocksDB's
# block cache handed over, and TSan does not see that hand-off (a program of
# plain RocksDB calls draws the same report, and runs clean under ASan). Its
# invariant is checked in the debug and ASan passes; the point cache's own
# threads test (PointCacheTest) runs here. For the same reason the read-view pool's
# engine-level transfer test is left out, whose readers match documents in
# blocks another thread decompressed (it draws the report with the pool
# switched off too); the pool's own threads test, which copies values out
# inside RocksDB, runs here.)
cmake --preset tsan >/dev/null
cmake --build build/tsan -j"$jobs" --target docket_tests crash_test crash_writer docket odm_tests \
  example_sequential_ids example_bank_branches server_cpp_tests
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" \
  ctest --test-dir build/tsan --output-on-failure \
  -R 'SeedTest|CappedTest|OplogTest|ChangeStreamTest|CollationTest|CollationConcurrencyTest|TextConcurrencyTest|TextIndexTest|GeoConcurrencyTest|GeoIndexTest|ViewsTest|ValidationTest|CheckpointTest|TailableTest|NaturalOrderTest|IndexConcurrencyTest|AggregateConcurrencyTest|TtlMonitorTest|TtlMonitorSettingsTest|IndexUsageTest|IndexBuildTest|TransactionTest|TransactionCatalogTest|TransactionScanTest|WriteRetryTest|WriteWaitTest|CrashTest|ServerPytest|OdmTest.*/Embedded|CodecTest|FixtureTest|^Example\.[a-z_]+$|PoolTest|PoolLimitTest|PointCacheTest|DropCompactorTest|DropCleanupTest' \
  -E 'ReadViewPoolTest\.ConcurrentReadersThroughReusedViews'
