#pragma once
// Internal: renders the standard plots into a folder (plots.cpp).
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lutc::explore {

std::vector<std::string> render_plots(const std::filesystem::path& dir, const std::vector<nlohmann::json>& rows,
                                      std::string* note);

}  // namespace lutc::explore
