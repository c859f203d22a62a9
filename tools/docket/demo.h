#pragma once

namespace docket::tools {
// Runs both seed scenarios, wrong way then right way, on an in-memory engine,
// and prints what happened. Returns 0 when the right ways came out clean.
int RunDemo(int threads, int per_thread);
}  // namespace docket::tools
