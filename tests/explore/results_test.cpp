// The result table: stable CSV cells, the Pareto flag, shard slices.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "lutc/compiler/arch_config.h"
#include "lutc/compiler/engine_stats.h"
#include "lutc/explore/explore_run.h"
#include "lutc/explore/results.h"
#include "lutc/model/error.h"

namespace lutc::explore {
namespace {
using nlohmann::json;

json row(const char* status, double q, double e, double t) {
  return json{{"status", status}, {"quality_db", q}, {"energy_pj_per_token", e}, {"tokens_per_s", t}};
}

TEST(Pareto, KeepsOnlyUndominatedOkRows) {
  std::vector<json> rows = {row("ok", 30, 100, 10),         row("ok", 20, 100, 10),  // dominated by 0
                            row("ok", 20, 50, 10),          row("ok", 10, 200, 50),
                            row("infeasible", 99, 1, 1000), row("ok", 30, 100, 10)};  // a tie with 0: both stay
  mark_pareto(rows);
  std::vector<int> flags;
  for (const auto& r : rows) flags.push_back(r["pareto"]);
  EXPECT_EQ(flags, (std::vector<int>{1, 0, 1, 1, 0, 1}));
}

// Each arch key with a column in the key table is a results column, in
// table order, right after arch_hash.
TEST(Columns, ComeFromTheArchKeyTable) {
  const std::vector<std::string>& cols = result_columns();
  auto at = std::find(cols.begin(), cols.end(), "arch_hash");
  ASSERT_NE(at, cols.end());
  size_t n = 0;
  for (const ArchKeyInfo& k : arch_keys()) {
    if (k.column.empty()) continue;
    ++n;
    ASSERT_NE(++at, cols.end());
    EXPECT_EQ(*at, k.column);
  }
  EXPECT_GE(n, 13u);
  EXPECT_EQ(std::set<std::string>(cols.begin(), cols.end()).size(), cols.size()) << "a column is listed twice";
}

// One energy_<part>_pj column per engine energy part, in kEnergyParts order.
TEST(Columns, HoldEveryEnergyPart) {
  const std::vector<std::string>& cols = result_columns();
  auto at = std::find(cols.begin(), cols.end(), "pj_per_weight");
  ASSERT_NE(at, cols.end());
  for (const char* part : kEnergyParts) {
    ASSERT_NE(++at, cols.end());
    EXPECT_EQ(*at, std::string("energy_") + part + "_pj");
  }
}

TEST(Csv, CellsAreStable) {
  EXPECT_EQ(csv_cell(json(3)), "3");
  EXPECT_EQ(csv_cell(json(0.1)), "0.1");
  EXPECT_EQ(csv_cell(json(1.0 / 3)), "0.333333333");
  EXPECT_EQ(csv_cell(json()), "");
  EXPECT_EQ(csv_cell(json("a,b")), "\"a,b\"");
  EXPECT_EQ(csv_cell(json("say \"x\"")), "\"say \"\"x\"\"\"");
  const std::string csv = results_csv({json{{"point", 0}, {"status", "ok"}}});
  EXPECT_EQ(csv.substr(0, csv.find('\n')).find("point,key,status,"), 0u);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 2);
}

TEST(Shards, RoundRobinCoversEveryPointOnce) {
  std::vector<int> seen(10, 0);
  for (unsigned s = 0; s < 3; ++s)
    for (size_t i : shard_indices(10, s, 3)) ++seen[i];
  EXPECT_EQ(seen, std::vector<int>(10, 1));
  EXPECT_EQ(parse_shard("2/3"), std::make_pair(2u, 3u));
  for (const char* bad : {"3/3", "1", "a/b", "1/0", "1/2x"}) EXPECT_THROW(parse_shard(bad), Error) << bad;
}

}  // namespace
}  // namespace lutc::explore
