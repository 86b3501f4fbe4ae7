// The trajectory plot: bytes needed (left axis, with the budget line) and KL
// (right axis, log scale) for each candidate, labelled by its floors. gnuplot
// renders it; the data and script go to a temp dir, the SVG is renamed into
// place so a failed render leaves nothing half-written.
#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "lutc/model/error.h"
#include "lutc/model/hprocess.h"

namespace lutc {

bool plot_trajectory_svg(const HprocessResult& r, uint64_t budget_bytes, const std::string& svg_path) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) return false;
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("lutc-plot-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream d(dir / "t.dat");
    for (size_t i = 0; i < r.trajectory.size(); ++i) {
      const HprocessPoint& p = r.trajectory[i];
      char label[64];
      std::snprintf(label, sizeof label, "%.6g/%.6g", p.floor_strict, p.floor_lazy);
      d << i << " " << double(p.need_bytes) / 1024 << " " << std::max(p.lm.kl, 1e-9) << " \"" << label << "\" "
        << (int(i) == r.chosen ? 1 : 0) << "\n";
    }
  }
  const std::string tmp_svg = (dir / "plot.svg").string();
  {
    std::ofstream g(dir / "plot.gp");
    g << "set terminal svg size 900,500 dynamic\nset output '" << tmp_svg << "'\n"
      << "set title 'H-Process: " << fs::path(r.model).filename().string() << "'\n"
      << "set xlabel 'candidate (strict/lazy floor)'\nset ylabel 'bytes needed (KiB)'\n"
      << "set y2label 'KL(p_{fp32} || p_q), nats'\nset logscale y2\nset ytics nomirror\nset y2tics\n"
      << "set xtics rotate by -45\nset key top right\nset grid\n";
    if (budget_bytes)
      g << "set arrow from graph 0, first " << double(budget_bytes) / 1024 << " to graph 1, first "
        << double(budget_bytes) / 1024 << " nohead dt 2 lc rgb 'red'\n";
    g << "plot '" << (dir / "t.dat").string() << "' using 1:2:xtic(4) with linespoints title 'bytes needed', "
      << "'' using 1:3 axes x1y2 with linespoints title 'KL', "
      << "'' using 1:($5 > 0 ? $2 : 1/0) with points pt 7 ps 2 title 'chosen'\n";
  }
  const std::string cmd = "gnuplot '" + (dir / "plot.gp").string() + "' 2>/dev/null";
  const bool ok = std::system(cmd.c_str()) == 0 && fs::exists(tmp_svg);
  if (ok) {
    std::error_code ec;
    fs::rename(tmp_svg, svg_path, ec);
    if (ec) {  // across file systems: copy next to the target, then rename
      const std::string staged = svg_path + ".tmp";
      fs::copy_file(tmp_svg, staged, fs::copy_options::overwrite_existing);
      fs::rename(staged, svg_path);
    }
  }
  fs::remove_all(dir);
  if (!ok) throw Error(ExitCode::kIo, "gnuplot failed to render " + svg_path);
  return true;
}

}  // namespace lutc
