#pragma once
// A count of retired commands with an event, so a unit can wait until another
// has finished command number n (in-order units retire in issue order).
#include <systemc>

#include <cstdint>

namespace lutc::sim {

class ProgressCounter {
 public:
  uint64_t value() const { return value_; }
  void retire(uint64_t seq) {
    value_ = seq;
    retired_at_ = sc_core::sc_time_stamp();
    changed_.notify(sc_core::SC_ZERO_TIME);
  }
  // When the latest command retired (the unit is idle from then on, unless
  // more is queued).
  double retired_at() const { return retired_at_.to_seconds() * 1e9; }
  // Returns the cycles waited.
  double wait_until(uint64_t seq) {
    // A snapshot, not a reference: the kernel's time moves on while this waits.
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();  // NOLINT(performance-unnecessary-copy-initialization)
    while (value_ < seq) sc_core::wait(changed_);
    return (sc_core::sc_time_stamp() - t0).to_seconds() * 1e9;
  }

 private:
  uint64_t value_ = 0;
  sc_core::sc_time retired_at_ = sc_core::SC_ZERO_TIME;
  sc_core::sc_event changed_;
};

}  // namespace lutc::sim
