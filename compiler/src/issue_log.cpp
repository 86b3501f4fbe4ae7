#include "lutc/compiler/issue_log.h"

#include <algorithm>
#include <sstream>

#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"
#include "lutc/model/text_file.h"

namespace lutc {
namespace {

// Layer names are free text: quote one that holds a comma, quote or line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::vector<std::string> split_csv_line(const std::string& line, bool* ok) {
  std::vector<std::string> out(1);
  bool quoted = false;
  *ok = true;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
        out.back() += '"', ++i;
      else if (c == '"')
        quoted = false;
      else
        out.back() += c;
    } else if (c == '"' && out.back().empty()) {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  if (quoted) *ok = false;
  return out;
}

bool parse_u64(const std::string& s, uint64_t* v) {
  if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  *v = std::stoull(s);
  return true;
}

bool op_by_name(const std::string& name, isa::Op* op) {
  for (unsigned code = 0; code < 256; ++code)
    if (const isa::OpInfo* o = isa::op_info(uint8_t(code)); o && name == o->name) {
      *op = o->op;
      return true;
    }
  return false;
}

std::string describe(const IssueLog& log, const IssueRecord& r) {
  const std::string layer = r.layer < log.layers.size() ? log.layers[r.layer] : "?";
  return "layer '" + layer + "' pc " + std::to_string(r.pc) + " " + isa::op_info(r.op).name + " in cycle " +
         std::to_string(r.cycle);
}

}  // namespace

std::string issue_log_csv(const IssueLog& log) {
  std::string out = "layer,pc,op,cycle\n";
  for (const IssueRecord& r : log.records) {
    out += csv_field(r.layer < log.layers.size() ? log.layers[r.layer] : std::string());
    out += ',' + std::to_string(r.pc) + ',' + isa::op_info(r.op).name + ',' + std::to_string(r.cycle) + '\n';
  }
  return out;
}

void write_issue_log(const std::string& path, const IssueLog& log) {
  AtomicFile f(path);
  const std::string csv = issue_log_csv(log);
  f.write(csv.data(), csv.size());
  f.commit();
}

IssueLog parse_issue_log(const std::string& csv, const std::string& what) {
  IssueLog log;
  std::istringstream in(csv);
  std::string line;
  size_t n = 0;
  auto bad = [&](const std::string& why) {
    throw Error(ExitCode::kBadInput, what + ": line " + std::to_string(n) + ": " + why);
  };
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (n == 1) {
      if (line != "layer,pc,op,cycle") bad("expected the header 'layer,pc,op,cycle'");
      continue;
    }
    if (line.empty()) continue;
    bool ok = false;
    const std::vector<std::string> f = split_csv_line(line, &ok);
    if (!ok || f.size() != 4) bad("expected 4 fields: layer,pc,op,cycle");
    IssueRecord r;
    uint64_t pc = 0;
    if (!parse_u64(f[1], &pc) || pc > UINT32_MAX) bad("pc '" + f[1] + "' is not an instruction index");
    if (!op_by_name(f[2], &r.op)) bad("'" + f[2] + "' is no opcode");
    if (!parse_u64(f[3], &r.cycle)) bad("cycle '" + f[3] + "' is not a cycle count");
    r.pc = uint32_t(pc);
    if (log.layers.empty() || log.layers.back() != f[0]) log.layers.push_back(f[0]);
    r.layer = uint32_t(log.layers.size() - 1);
    log.records.push_back(r);
  }
  if (n == 0) bad("empty (no header)");
  return log;
}

IssueLog read_issue_log(const std::string& path) { return parse_issue_log(read_text_file(path, "issue log"), path); }

std::string first_issue_difference(const IssueLog& a, const IssueLog& b, const std::string& a_name,
                                   const std::string& b_name) {
  const size_t n = std::min(a.records.size(), b.records.size());
  auto same = [&](size_t i) {
    const IssueRecord &x = a.records[i], &y = b.records[i];
    const std::string& lx = x.layer < a.layers.size() ? a.layers[x.layer] : a_name;
    const std::string& ly = y.layer < b.layers.size() ? b.layers[y.layer] : b_name;
    return lx == ly && x.pc == y.pc && x.op == y.op && x.cycle == y.cycle;
  };
  size_t i = 0;
  while (i < n && same(i)) ++i;
  if (i == n && a.records.size() == b.records.size()) return {};
  std::string out = "first difference at record " + std::to_string(i) + ":\n";
  for (size_t k = i >= 3 ? i - 3 : 0; k < i; ++k) out += "  both:  " + describe(a, a.records[k]) + "\n";
  out += "  " + a_name + ": " + (i < a.records.size() ? describe(a, a.records[i]) : "(log ends)") + "\n";
  out += "  " + b_name + ": " + (i < b.records.size() ? describe(b, b.records[i]) : "(log ends)") + "\n";
  return out;
}

}  // namespace lutc
