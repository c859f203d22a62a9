// GCC's -fsanitize-coverage=trace-cmp also reports floating-point comparisons
// (__sanitizer_cov_trace_cmpf/cmpd), which clang never emits and libFuzzer
// therefore does not define. The sources g++ compiles for the fuzz build
// (fuzz/CMakeLists.txt) call them; they carry nothing libFuzzer uses.
extern "C" {
__attribute__((no_sanitize("coverage"), visibility("default"))) void __sanitizer_cov_trace_cmpf(float, float) {}
__attribute__((no_sanitize("coverage"), visibility("default"))) void __sanitizer_cov_trace_cmpd(double, double) {}
}
