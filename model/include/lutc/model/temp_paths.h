#pragma once
// The temp files and folders lutc writes beside an output before renaming
// them onto it (AtomicFile, AtomicFolder): their names, the list of those
// this process is writing right now, and how leftovers of earlier runs are
// recognised and removed.
//
// Name: [.]BASE.tmp.lutc-PID-N-R — the target's base name (cut so the whole
// name fits one 255-byte file-name component), the writer's process id, a
// per-process counter and a clock value. Folders get a leading dot.
#include <string>

namespace lutc {

// A fresh temp name beside `path` for this process (`attempt` varies it after a collision).
std::string temp_path_beside(const std::string& path, bool hidden, unsigned attempt);

// True when `name` (a file name, no folder) has the shape temp_path_beside
// makes; *pid is the process that made it.
bool parse_temp_name(const std::string& name, long* pid);

// While alive, `path` is one of this process's live temps: a SIGINT, SIGTERM
// or SIGHUP (after remove_temps_on_signals) removes it before the process
// dies. Registration is lock-free; the handler only unlinks and rmdirs
// precomputed paths, which is safe inside a signal handler.
class LiveTemp {
 public:
  LiveTemp() = default;
  ~LiveTemp() { release(); }
  LiveTemp(const LiveTemp&) = delete;
  LiveTemp& operator=(const LiveTemp&) = delete;

  void set(const std::string& path, bool folder);  // registers; a second set() replaces the first
  void release();                                  // no longer removed by a signal (committed or gone)

 private:
  int slot_ = -1;
};

// While alive, process `pid` (a child this process started and waits for)
// gets the same SIGINT, SIGTERM or SIGHUP this process gets, so a signal
// sent to `lutc explore` alone does not leave its children running.
class LiveChild {
 public:
  LiveChild() = default;
  ~LiveChild() { release(); }
  LiveChild(const LiveChild&) = delete;
  LiveChild& operator=(const LiveChild&) = delete;

  void set(long pid);  // registers; a second set() replaces the first
  void release();      // reaped: no longer signalled

 private:
  int slot_ = -1;
};

// Installs the handlers: on SIGINT, SIGTERM or SIGHUP the signal is passed
// on to every live child and every live temp is removed, then the signal's
// default action runs, so the exit status is still "killed by that signal". A signal the process ignores (nohup, a
// background job) stays ignored. Only executables call this: a library
// embedded elsewhere (the Python module) leaves the host's handlers alone.
void remove_temps_on_signals();

// Removes leftovers of killed runs from `dir`: entries whose name has the
// temp shape above and whose owner is gone — its process is not running and
// the entry was untouched for kStaleGraceSeconds — or that were untouched
// for kStaleMaxAgeSeconds whatever the process id says (ids are reused).
// A temp of a running writer is never touched, so concurrent runs are safe;
// the grace period covers writers in another pid namespace sharing `dir`.
// Scans each folder once per process; errors are ignored (it is tidying).
constexpr long kStaleGraceSeconds = 15 * 60;
constexpr long kStaleMaxAgeSeconds = 24 * 3600;
void remove_stale_temps(const std::string& dir);

}  // namespace lutc
