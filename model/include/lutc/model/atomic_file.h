#pragma once
// Output files appear whole or not at all: bytes go to a temp file beside the
// target, which is renamed over it on commit(). A writer destroyed without
// commit() (an exception, a failed check) removes its temp file; so does a
// SIGINT/SIGTERM once the executable called remove_temps_on_signals(). Each
// writer first removes stale temps that killed runs left in its folder
// (temp_paths.h).
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "lutc/model/temp_paths.h"

namespace lutc {

// Error(kUsage) when `output` is one of the inputs, or a file inside an input
// folder, judged by file identity (device and inode: "./m.xfp", a hard link or
// a symlink are the same file). Writing it would replace an input the command
// is still reading, and the run would end with exit 0 and the input gone.
// `flag` names the option in the message. Inputs that do not exist are skipped
// (their own readers report them).
void refuse_output_over_input(const std::string& output, const std::string& flag,
                              const std::vector<std::string>& inputs);

class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);  // throws Error(kIo) if the temp file cannot be made
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  uint64_t bytes_written() const { return written_; }
  // Flush, fsync and close the temp file, which keeps its name: the slow and
  // failure-prone half of commit(). Outputs published together (an .xfp and
  // its report) finish() all of them before the first commit(), so an error
  // while writing any leaves every target as it was. Throws Error(kIo).
  void finish();
  const std::string& temp_path() const { return tmp_; }  // the bytes so far, complete after finish()
  void commit();                                         // finish() if not yet, then rename; throws Error(kIo)

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  uint64_t written_ = 0;
  bool finished_ = false, committed_ = false;
  LiveTemp live_;
};

// The same for a whole output folder (a Hugging Face model folder): files are
// written into a temp folder beside `path` (named by file()), and commit()
// renames it onto `path`, so readers see the complete folder or none. An
// existing `path` must be an empty folder unless `replace` is set; then
// commit() swaps the new folder in atomically and removes the old one.
// Destroyed without commit() it removes the temp folder and everything in it.
// The temp folder is .NAME.tmp.lutc-PID-N-R (temp_paths.h).
class AtomicFolder {
 public:
  // Error(kUsage) when `path` is a file, or a non-empty folder without
  // `replace`; Error(kIo) when the temp folder cannot be made.
  AtomicFolder(const std::string& path, bool replace);
  ~AtomicFolder();
  AtomicFolder(const AtomicFolder&) = delete;
  AtomicFolder& operator=(const AtomicFolder&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return tmp_ + "/" + name; }  // where to write `name`
  void commit();  // fsync, rename (or swap); throws Error(kIo) or, if `path` filled up meanwhile, Error(kUsage)

 private:
  std::string path_, tmp_;
  bool replace_, committed_ = false;
  LiveTemp live_;
};

// Error(kIo) naming `for_path` unless this process can create entries in
// the folder `dir` (it makes and removes a temp file there: permissions,
// read-only file systems and full inode tables all show). Commands call it
// on their output folders before any work, so a run does not compute for
// an hour and then fail to write.
void check_can_create_in(const std::string& dir, const std::string& for_path);

}  // namespace lutc
