// sim/'s part of lutc._lutc: run a program on the SystemC model.
//
// SystemC elaborates once per process (sim/src/sc_main.cpp refuses a second
// run_in_systemc), and a Python session wants to simulate many times. So
// each call forks: the child process enters SystemC, simulates, sends the
// stats JSON and y back through a pipe and exits; the parent (this Python
// process) never elaborates, and every call gets a fresh kernel. Errors keep
// their exit-code class across the pipe.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "binding_registry.h"
#include "compiler_python.h"
#include "lutc/model/error.h"
#include "lutc/sim/report.h"
#include "lutc/sim/simulate.h"
#include "lutc_python.h"

namespace lutc::python {
namespace {

void write_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) _exit(3);
    p += w;
    n -= size_t(w);
  }
}

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <class T>
T take(const std::string& in, size_t& at) {
  if (at + sizeof(T) > in.size()) throw Error(ExitCode::kInternal, "simulation process: truncated reply");
  T v;
  std::memcpy(&v, in.data() + at, sizeof v);
  at += sizeof v;
  return v;
}

// The child's reply: int32 exit code (0 = ok), u64 text length, text (the
// stats JSON, or the error message), u64 y count, y floats.
std::string child_reply(sim::SimJob&& job) {
  std::string reply;
  int32_t code = 0;
  std::string text;
  std::vector<float> y;
  try {
    sim::SimResult r;
    sim::run_in_systemc([&] {
      r = sim::simulate(std::move(job));
      return 0;
    });
    text = sim::report_json(r).dump();
    y = std::move(r.layers.at(0).y);
  } catch (const Error& e) {
    code = int32_t(e.code());
    text = e.what();
  } catch (const std::exception& e) {
    code = int32_t(ExitCode::kInternal);
    text = e.what();
  }
  put(reply, code);
  put(reply, uint64_t(text.size()));
  reply += text;
  put(reply, uint64_t(y.size()));
  reply.append(reinterpret_cast<const char*>(y.data()), y.size() * sizeof(float));
  return reply;
}

// The one-layer job for p; x (when given) is filled with the activations,
// and its batch replaces the timing-only batch.
sim::SimJob make_job(const PyProgram& p, const std::optional<FloatIn>& xin, uint32_t batch, uint32_t burst,
                     uint32_t outstanding, Activations& x) {
  sim::SimJob job;
  job.arch = p.program->arch;
  job.options.dram_burst_bytes = burst;
  job.options.dram_outstanding = outstanding;
  sim::SimLayer layer;
  std::shared_ptr<const Program> program = p.program;
  layer.load = [program] { return program; };
  if (xin) {
    x = activations(*xin, p.program->meta.cols, p.program->meta.layer);
    layer.x.assign(x.data, x.data + size_t(x.batch) * p.program->meta.cols);
    batch = x.batch;
  }
  job.batch = batch;
  job.layers.push_back(std::move(layer));
  return job;
}

// Runs job in a forked child (SystemC elaborates once per process) and
// returns its whole reply and its wait status. The caller holds no GIL, so
// other Python threads run meanwhile.
std::string run_in_child(sim::SimJob&& job, int& status) {
  std::string reply;
  int fds[2];
  if (::pipe(fds) != 0) throw Error(ExitCode::kInternal, std::string("simulate: pipe: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw Error(ExitCode::kInternal, std::string("simulate: fork: ") + std::strerror(errno));
  }
  if (pid == 0) {  // child: never returns into Python
    ::close(fds[0]);
    const std::string r = child_reply(std::move(job));
    write_all(fds[1], r.data(), r.size());
    ::close(fds[1]);
    _exit(0);
  }
  ::close(fds[1]);
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buf, size_t(n));
  }
  ::close(fds[0]);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return reply;
}

// child_reply's format read back: the stats JSON text, y into *y. A child
// that failed rethrows its error with its exit-code class.
std::string parse_reply(const std::string& reply, std::vector<float>* y) {
  size_t at = 0;
  const int32_t code = take<int32_t>(reply, at);
  const uint64_t len = take<uint64_t>(reply, at);
  if (at + len > reply.size()) throw Error(ExitCode::kInternal, "simulation process: truncated reply");
  std::string text = reply.substr(at, len);
  at += len;
  if (code != 0) throw Error(ExitCode(code), text);
  const uint64_t ny = take<uint64_t>(reply, at);
  if (at + ny * sizeof(float) != reply.size()) throw Error(ExitCode::kInternal, "simulation process: bad reply");
  y->resize(ny);
  std::memcpy(y->data(), reply.data() + at, ny * sizeof(float));
  return text;
}

nb::tuple simulate(const PyProgram& p, std::optional<FloatIn> xin, uint32_t batch, uint32_t burst,
                   uint32_t outstanding) {
  check_range("batch", batch, 1, 1 << 20);
  check_range("dram-burst", burst, 1, 1 << 24);
  check_range("dram-outstanding", outstanding, 1, 1 << 16);
  Activations x;
  sim::SimJob job = make_job(p, xin, batch, burst, outstanding, x);

  std::string reply;
  int status = 0;
  {
    nb::gil_scoped_release unlocked;
    reply = run_in_child(std::move(job), status);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error(ExitCode::kInternal, "the simulation process of layer '" + p.program->meta.layer + "' died (" +
                                         (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                                              : "exit " + std::to_string(WEXITSTATUS(status))) +
                                         ")");
  std::vector<float> y;
  const std::string text = parse_reply(reply, &y);
  nb::object yo = nb::none();
  if (xin) yo = nb::cast(outputs(std::move(y), x, p.program->meta.rows));
  return nb::make_tuple(yo, to_python(nlohmann::json::parse(text)));
}

void bind_sim(nb::module_& m) {
  const sim::SimOptions d;
  m.def("_simulate", &simulate, nb::arg("program"), nb::arg("x").none(), nb::arg("batch") = 1,
        nb::arg("dram_burst") = d.dram_burst_bytes, nb::arg("dram_outstanding") = d.dram_outstanding);
}

const RegisterBinding kRegister({2, "sim", bind_sim});

}  // namespace
}  // namespace lutc::python
