#pragma once
// The result set: one row per point in sweep order, the Pareto flag, and the
// two files every consumer reads — results.csv and results.json — whose
// column names are a stable interface (docs/explore.md).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lutc::explore {

// Column order of results.csv; results.json rows carry the same keys.
const std::vector<std::string>& result_columns();

// The column of one energy part (kEnergyParts): "energy_<part>_pj".
std::string energy_column(const std::string& part);

// Sets "pareto" on every row: 1 when no other ok row is at least as good in
// quality_db (higher), energy_pj_per_token (lower) and tokens_per_s (higher)
// and strictly better in one; 0 otherwise (and for rows that are not ok).
void mark_pareto(std::vector<nlohmann::json>& rows);

std::string results_csv(const std::vector<nlohmann::json>& rows);
nlohmann::json results_json(const std::string& sweep_name, const std::string& sweep_hash,
                            const std::vector<nlohmann::json>& rows);

// One CSV cell: integers as integers, reals as %.9g, null as empty, strings
// quoted when they hold a comma, quote or newline.
std::string csv_cell(const nlohmann::json& v);

}  // namespace lutc::explore
