#pragma once
// The cycle in which each instruction was accepted, counted from its layer's
// first fetch (cycle 0). The SystemC model and the RTL harness record the
// same log, so a disagreement between them shows as the first instruction
// whose accept cycle differs, not only as two different totals.
// CSV (docs/stats.md): header `layer,pc,op,cycle`, one line per instruction.
#include <cstdint>
#include <string>
#include <vector>

#include "lutc/compiler/isa.h"

namespace lutc {

struct IssueRecord {
  uint32_t layer = 0;  // index into IssueLog::layers
  uint32_t pc = 0;
  isa::Op op = isa::Op::END;
  uint64_t cycle = 0;
};

struct IssueLog {
  std::vector<std::string> layers;
  std::vector<IssueRecord> records;
};

std::string issue_log_csv(const IssueLog& log);
// Written whole or not at all; throws Error(kIo).
void write_issue_log(const std::string& path, const IssueLog& log);
// Throws Error(kBadInput) naming `what` and the line for anything malformed.
IssueLog parse_issue_log(const std::string& csv, const std::string& what);
IssueLog read_issue_log(const std::string& path);

// The first record where a and b disagree (layer, pc, op, cycle), with the
// records just before it for context; empty when the logs are equal.
std::string first_issue_difference(const IssueLog& a, const IssueLog& b, const std::string& a_name,
                                   const std::string& b_name);

}  // namespace lutc
