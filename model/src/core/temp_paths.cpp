#include "lutc/model/temp_paths.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace lutc {
namespace {

constexpr char kMarker[] = ".tmp.lutc-";

std::string parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// ---- live temps: fixed slots a signal handler can read without locks ----

enum SlotState : int { kFree = 0, kClaimed = 1, kFile = 2, kFolder = 3 };
constexpr int kSlots = 128;  // more live temps than this at once are left to remove_stale_temps
struct Slot {
  std::atomic<int> state{kFree};
  char path[PATH_MAX];
};
Slot g_slots[kSlots];
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler reads the slot states");

// Removes the folder `name` under `dirfd` and what it holds, with system
// calls only (no allocation, no locks): this runs inside a signal handler.
// The outputs written through temp folders are a level or two deep.
void remove_tree_in_handler(int dirfd, const char* name, int depth) {
  if (::unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return;
  const int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    ::unlinkat(dirfd, name, 0);  // not a folder after all
    return;
  }
  alignas(8) char buf[2048];
  // Removing entries while reading can make getdents skip some: read again
  // from the start until a pass finds nothing left to remove.
  for (int pass = 0; pass < 64; ++pass) {
    ::lseek(fd, 0, SEEK_SET);
    bool removed = false;
    for (;;) {
      const long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
      if (n <= 0) break;
      for (long off = 0; off < n;) {
        struct Entry {
          uint64_t ino;
          int64_t off;
          unsigned short reclen;
          unsigned char type;
          char name[1];
        };
        const Entry* e = reinterpret_cast<const Entry*>(buf + off);
        off += e->reclen;
        if (!std::strcmp(e->name, ".") || !std::strcmp(e->name, "..")) continue;
        if (e->type == DT_DIR || (e->type == DT_UNKNOWN && ::unlinkat(fd, e->name, 0) != 0 && errno == EISDIR)) {
          if (depth < 8) remove_tree_in_handler(fd, e->name, depth + 1);
        } else if (e->type != DT_UNKNOWN) {
          ::unlinkat(fd, e->name, 0);
        }
        removed = true;
      }
    }
    if (!removed) break;
  }
  ::close(fd);
  ::unlinkat(dirfd, name, AT_REMOVEDIR);
}

// ---- live children: the processes a terminating signal is passed on to ----

constexpr int kChildSlots = 256;           // explore runs at most --jobs children at once
std::atomic<int> g_children[kChildSlots];  // 0 = free, else a child's pid
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler reads the child slots");

void signal_live_children_in_handler(int sig) {
  for (std::atomic<int>& c : g_children) {
    const int pid = c.load(std::memory_order_acquire);
    if (pid > 0) ::kill(pid_t(pid), sig);
  }
}

void remove_live_temps_in_handler() {
  for (Slot& s : g_slots) {
    const int state = s.state.load(std::memory_order_acquire);
    if (state == kFile)
      ::unlink(s.path);
    else if (state == kFolder)
      remove_tree_in_handler(AT_FDCWD, s.path, 0);
  }
}

extern "C" void on_terminating_signal(int sig) {
  const int saved = errno;
  // Children first: each removes its own temps in its own handler.
  signal_live_children_in_handler(sig);
  remove_live_temps_in_handler();
  // SA_RESETHAND restored the default action; SA_NODEFER lets it act now,
  // so the process ends "killed by sig", as it would have without us.
  ::raise(sig);
  errno = saved;
}

bool process_alive(long pid) {
  if (pid <= 0 || pid > INT32_MAX) return false;
  return ::kill(pid_t(pid), 0) == 0 || errno == EPERM;
}

}  // namespace

std::string temp_path_beside(const std::string& path, bool hidden, unsigned attempt) {
  static std::atomic<uint64_t> counter{0};
  const uint64_t n = counter.fetch_add(1);
  const uint64_t t = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  const std::string prefix = hidden ? "." : "";
  const std::string suffix = kMarker + std::to_string(::getpid()) + "-" + std::to_string(n) + "-" +
                             std::to_string((t ^ (uint64_t(attempt) << 40)) & 0xffffffffu);
  // The base is cut so the whole name fits one file-name component (255
  // bytes on Linux file systems): appending the suffix to a legal long
  // target name must not make the temp name itself illegal.
  constexpr size_t kNameMax = 255;
  std::string base = base_name(path);
  const size_t room = kNameMax > prefix.size() + suffix.size() ? kNameMax - prefix.size() - suffix.size() : 0;
  if (base.size() > room) base.resize(room);
  return parent_dir(path) + "/" + prefix + base + suffix;
}

bool parse_temp_name(const std::string& name, long* pid) {
  const size_t at = name.rfind(kMarker);
  if (at == std::string::npos) return false;
  const std::string rest = name.substr(at + sizeof(kMarker) - 1);  // PID-N-R
  const size_t d1 = rest.find('-'), d2 = d1 == std::string::npos ? d1 : rest.find('-', d1 + 1);
  if (d2 == std::string::npos) return false;
  const std::string p = rest.substr(0, d1), n = rest.substr(d1 + 1, d2 - d1 - 1), r = rest.substr(d2 + 1);
  if (!all_digits(p) || !all_digits(n) || !all_digits(r)) return false;
  *pid = std::stol(p);
  return true;
}

void LiveTemp::set(const std::string& path, bool folder) {
  release();
  if (path.size() >= PATH_MAX) return;
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (!g_slots[i].state.compare_exchange_strong(expected, kClaimed, std::memory_order_acq_rel)) continue;
    std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
    g_slots[i].state.store(folder ? kFolder : kFile, std::memory_order_release);
    slot_ = i;
    return;
  }
}

void LiveTemp::release() {
  if (slot_ < 0) return;
  g_slots[slot_].state.store(kFree, std::memory_order_release);
  slot_ = -1;
}

void LiveChild::set(long pid) {
  release();
  if (pid <= 0 || pid > INT32_MAX) return;
  for (int i = 0; i < kChildSlots; ++i) {
    int expected = 0;
    if (!g_children[i].compare_exchange_strong(expected, int(pid), std::memory_order_acq_rel)) continue;
    slot_ = i;
    return;
  }
}

void LiveChild::release() {
  if (slot_ < 0) return;
  g_children[slot_].store(0, std::memory_order_release);
  slot_ = -1;
}

void remove_temps_on_signals() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction old {};
      if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler == SIG_IGN) continue;
      struct sigaction sa {};
      sa.sa_handler = on_terminating_signal;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = SA_RESETHAND | SA_NODEFER;
      ::sigaction(sig, &sa, nullptr);
    }
  });
}

void remove_stale_temps(const std::string& dir) {
  namespace fs = std::filesystem;
  static std::mutex mu;
  static std::set<std::string> scanned;
  {
    std::lock_guard<std::mutex> g(mu);
    if (!scanned.insert(dir).second) return;
  }
  const long me = long(::getpid());
  const auto now = std::chrono::system_clock::now();
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    long pid = 0;
    if (!parse_temp_name(name, &pid) || pid == me) continue;
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    const long age = long(std::chrono::system_clock::to_time_t(now) - st.st_mtime);
    const bool stale = age > kStaleMaxAgeSeconds || (age > kStaleGraceSeconds && !process_alive(pid));
    if (!stale) continue;
    std::error_code rm;
    fs::remove_all(it->path(), rm);
  }
}

}  // namespace lutc
