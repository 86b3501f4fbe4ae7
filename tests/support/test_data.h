#pragma once
// Test inputs: real weights from ../shared/data and fresh random seeds.
#include <cstdint>
#include <string>

namespace lutc::testing {

// Absolute path of a file under the shared data folder (the build's
// ../shared/data, or $LUTC_SHARED_DATA when set). When it is missing the
// test is skipped locally, but fails on CI (CI=true): a missing input there is
// a failure, not a pass.
std::string shared_data(const std::string& relative);
// True when the file exists; otherwise records a skip or a failure as above.
bool require_file(const std::string& path);
// A fresh seed per run, printed so a failure can be replayed with LUTC_SEED=.
uint64_t fresh_seed();
// A unique temp directory for the calling test, removed at process exit.
std::string temp_dir();

}  // namespace lutc::testing
