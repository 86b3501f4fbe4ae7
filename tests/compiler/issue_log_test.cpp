// The issue log's CSV: random logs survive a round trip (names with commas
// and quotes included), malformed files are refused with their line, and
// first_issue_difference finds the record a random change was made to.
#include <gtest/gtest.h>

#include <random>

#include "lutc/compiler/issue_log.h"
#include "lutc/model/error.h"
#include "test_data.h"

namespace lutc {
namespace {

const isa::Op kOps[] = {isa::Op::CFG,     isa::Op::DMA_IN, isa::Op::LUT_LOAD, isa::Op::DECODE_MAC,
                        isa::Op::OUTLIER, isa::Op::STORE,  isa::Op::SYNC,     isa::Op::END};

IssueLog random_log(std::mt19937_64& rng) {
  IssueLog log;
  const char* names[] = {"model.layers.0.q_proj", "a,b", "say \"hi\"", "", "x"};
  const uint32_t layers = 1 + uint32_t(rng() % 4);
  for (uint32_t l = 0; l < layers; ++l) {
    log.layers.push_back(std::string(names[rng() % 5]) + "#" + std::to_string(l));
    uint64_t cycle = 0;
    const uint32_t n = 1 + uint32_t(rng() % 50);
    for (uint32_t pc = 0; pc < n; ++pc) {
      cycle += rng() % 1000;
      log.records.push_back({l, pc, kOps[rng() % 8], cycle});
    }
  }
  return log;
}

void expect_equal(const IssueLog& a, const IssueLog& b) {
  ASSERT_EQ(a.layers, b.layers);
  ASSERT_EQ(a.records.size(), b.records.size());
  for (size_t i = 0; i < a.records.size(); ++i) {
    EXPECT_EQ(a.records[i].layer, b.records[i].layer) << i;
    EXPECT_EQ(a.records[i].pc, b.records[i].pc) << i;
    EXPECT_EQ(a.records[i].op, b.records[i].op) << i;
    EXPECT_EQ(a.records[i].cycle, b.records[i].cycle) << i;
  }
}

TEST(IssueLog, RandomLogsRoundTripThroughCsv) {
  std::mt19937_64 rng(testing::fresh_seed());
  for (int t = 0; t < 50; ++t) {
    const IssueLog log = random_log(rng);
    expect_equal(parse_issue_log(issue_log_csv(log), "mem"), log);
  }
}

TEST(IssueLog, FileRoundTripAndMissingFile) {
  std::mt19937_64 rng(testing::fresh_seed());
  const IssueLog log = random_log(rng);
  const std::string path = testing::temp_dir() + "/i.csv";
  write_issue_log(path, log);
  expect_equal(read_issue_log(path), log);
  try {
    read_issue_log(path + ".missing");
    FAIL() << "a missing file was read";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo);
  }
}

TEST(IssueLog, MalformedCsvNamesTheLine) {
  const struct {
    const char* csv;
    const char* why;
  } cases[] = {
      {"", "empty"},
      {"layer,pc,cycle\n", "header"},
      {"layer,pc,op,cycle\nL,0,CFG,0\nL,1,NOPE,3\n", "line 3"},
      {"layer,pc,op,cycle\nL,x,CFG,0\n", "pc 'x'"},
      {"layer,pc,op,cycle\nL,0,CFG,-1\n", "cycle '-1'"},
      {"layer,pc,op,cycle\nL,0,CFG\n", "4 fields"},
      {"layer,pc,op,cycle\n\"L,0,CFG,0\n", "4 fields"},
      {"layer,pc,op,cycle\nL,99999999999,CFG,0\n", "pc"},
  };
  for (const auto& c : cases) {
    try {
      parse_issue_log(c.csv, "bad.csv");
      ADD_FAILURE() << "accepted: " << c.csv;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput) << c.csv;
      EXPECT_NE(std::string(e.what()).find("bad.csv"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.why), std::string::npos) << e.what();
    }
  }
}

TEST(IssueLog, FirstDifferenceFindsTheChangedRecord) {
  std::mt19937_64 rng(testing::fresh_seed());
  for (int t = 0; t < 50; ++t) {
    const IssueLog a = random_log(rng);
    EXPECT_EQ(first_issue_difference(a, a, "rtl", "systemc"), "");
    IssueLog b = a;
    const size_t i = rng() % b.records.size();
    b.records[i].cycle += 1 + rng() % 5;
    const std::string d = first_issue_difference(a, b, "rtl", "systemc");
    EXPECT_NE(d.find("record " + std::to_string(i) + ":"), std::string::npos) << d;
    EXPECT_NE(d.find("cycle " + std::to_string(a.records[i].cycle) + "\n"), std::string::npos) << d;
    EXPECT_NE(d.find("cycle " + std::to_string(b.records[i].cycle) + "\n"), std::string::npos) << d;
    IssueLog shorter = a;
    shorter.records.pop_back();
    EXPECT_NE(first_issue_difference(a, shorter, "rtl", "systemc").find("(log ends)"), std::string::npos);
  }
}

}  // namespace
}  // namespace lutc
