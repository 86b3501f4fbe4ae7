#pragma once
// Where every unit records what it did: action counts, stall cycles, and one
// interval per tile phase. Busy cycles are the union of a unit's intervals
// (a unit with two ports, or a pipeline with overlapping phases, is busy once
// per cycle), and the same intervals become the trace's slices.
#include <cstdint>
#include <string>
#include <vector>

#include "lutc/compiler/engine_stats.h"

namespace lutc::sim {

enum class Unit : uint8_t {
  kController,
  kDma,
  kWeightSram,
  kActSram,
  kLut,
  kLanes,
  kAccumulator,
  kOutlier,
  kWriteback
};
constexpr unsigned kUnitCount = 9;
const char* unit_name(Unit u);  // the kEngineUnits JSON key

struct Slice {
  double start = 0, end = 0;  // cycles since the start of the run
  Unit unit = Unit::kController;
  uint32_t layer = 0;
  std::string label;  // only kept when tracing
};

class ActivityLog {
 public:
  explicit ActivityLog(bool keep_labels) : keep_labels_(keep_labels) {}

  ActionCounts actions;
  double stall_cycles[kUnitCount] = {};

  // Labels are only stored when tracing: `detail` when given, else `label`.
  void busy(Unit u, double start, double end, const char* label, const std::string& detail = {});
  void set_layer(uint32_t layer) { layer_ = layer; }
  void stall(Unit u, double cycles) { stall_cycles[static_cast<unsigned>(u)] += cycles; }

  const std::vector<Slice>& slices() const { return slices_; }
  bool keeps_labels() const { return keep_labels_; }

  // Busy cycles per layer per unit (union of that unit's intervals in the layer).
  std::vector<std::vector<double>> busy_by_layer(uint32_t layers) const;

 private:
  bool keep_labels_;
  uint32_t layer_ = 0;
  std::vector<Slice> slices_;
};

}  // namespace lutc::sim
