// Default sanitizer options of every fuzz target (environment variables
// still override them). UBSan checks are built recoverable so that
// UBSAN_OPTIONS=suppressions=... can let fuzzing go past a known finding
// (scripts/fuzz.sh uses fuzz/ubsan_known.supp); halt_on_error makes every
// other report fatal, so that the fuzzer saves the input.
extern "C" {
__attribute__((used, visibility("default"))) const char* __ubsan_default_options() {
  return "halt_on_error=1:print_stacktrace=1:print_summary=1";
}
__attribute__((used, visibility("default"))) const char* __asan_default_options() {
  return "detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1";
}
}
