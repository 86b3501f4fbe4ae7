#pragma once
// The checks every bad-input test makes: the input is refused with
// ExitCode::kBadInput, and the message names the file (and whatever else the
// test needs it to name).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lutc/model/error.h"
#include "lutc/model/weights.h"

namespace lutc::testing {

// Runs f, which must throw Error(kBadInput) naming `path` and an offset; returns the message.
template <class F>
std::string bad_input(const std::string& path, F f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
    const std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("offset"), std::string::npos) << m;
    return m;
  }
  ADD_FAILURE() << "accepted a malformed file";
  return "";
}

// Opens a weight file and reads every tensor; the error must name the file and
// every string in must_mention.
inline void expect_bad_weight_file(const std::string& path, const std::vector<std::string>& must_mention) {
  try {
    auto w = WeightFile::open(path);
    for (const TensorInfo& t : w->tensors()) w->read_all(t);
    ADD_FAILURE() << "accepted a malformed file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << "message lacks the file name: " << msg;
    for (const std::string& s : must_mention)
      EXPECT_NE(msg.find(s), std::string::npos) << "lacks '" << s << "': " << msg;
  }
}

}  // namespace lutc::testing
