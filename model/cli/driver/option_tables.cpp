#include "option_tables.h"

#include <regex>
#include <typeinfo>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/model/error.h"

namespace lutc::cli {

namespace {

ValueKind value_kind(const po::value_semantic& s) {
  if (s.max_tokens() == 0) return ValueKind::kNone;
  const auto* typed = dynamic_cast<const po::typed_value_base*>(&s);
  if (!typed) return ValueKind::kText;
  const std::type_info& t = typed->value_type();
  const bool number = t == typeid(int) || t == typeid(unsigned) || t == typeid(long) || t == typeid(unsigned long) ||
                      t == typeid(long long) || t == typeid(unsigned long long) || t == typeid(short) ||
                      t == typeid(unsigned short) || t == typeid(float) || t == typeid(double);
  return number ? ValueKind::kNumber : ValueKind::kText;
}

// "auto|on|off: hold one layer ..." -> {auto, on, off}
std::vector<std::string> choices_of(const std::string& description) {
  static const std::regex kChoices(R"(^([A-Za-z0-9_.+-]+(\|[A-Za-z0-9_.+-]+)+):)");
  std::smatch m;
  std::vector<std::string> out;
  if (!std::regex_search(description, m, kChoices)) return out;
  const std::string list = m[1];
  size_t start = 0;
  for (size_t bar; (bar = list.find('|', start)) != std::string::npos; start = bar + 1)
    out.push_back(list.substr(start, bar - start));
  out.push_back(list.substr(start));
  return out;
}

OptionInfo describe(const po::option_description& d) {
  OptionInfo o;
  o.long_name = d.long_name();
  const std::string shown = d.format_name();  // "-o [ --output ]" or "--output"
  if (shown.size() > 1 && shown[0] == '-' && shown[1] != '-') o.short_name = shown.substr(1, 1);
  const po::value_semantic& s = *d.semantic();
  o.value = value_kind(s);
  o.value_optional = o.value != ValueKind::kNone && s.min_tokens() == 0;
  o.repeatable = s.is_composing() || s.max_tokens() > 1;
  o.description = d.description();
  o.choices = choices_of(o.description);
  o.parameter = d.format_parameter();
  return o;
}

struct Capture {
  CommandTable* table = nullptr;
  bool seen = false;
};

void capture(const std::string& usage, const po::options_description& opts,
             const po::positional_options_description& pos, void* context) {
  auto* c = static_cast<Capture*>(context);
  c->seen = true;
  c->table->usage = usage;
  for (const auto& d : opts.options()) c->table->options.push_back(describe(*d));
  c->table->takes_operands = pos.max_total_count() > 0;
  if (!c->table->takes_operands) return;
  for (const auto& o : c->table->options)
    if (o.long_name == pos.name_for_position(0)) c->table->operand_choices = o.choices;
}

// Clears the sink on every way out, so a throwing command cannot leave the
// process parsing nothing.
struct SinkGuard {
  explicit SinkGuard(Capture* c) { set_option_table_sink(capture, c); }
  ~SinkGuard() { set_option_table_sink(nullptr, nullptr); }
  SinkGuard(const SinkGuard&) = delete;
  SinkGuard& operator=(const SinkGuard&) = delete;
};

}  // namespace

std::vector<CommandTable> option_tables() {
  std::vector<CommandTable> out;
  for (const Command& c : commands()) {
    CommandTable t;
    t.name = c.name;
    t.summary = c.summary;
    Capture cap{&t};
    {
      SinkGuard guard(&cap);
      std::string a0 = c.name, a1 = "--help";
      char* argv[] = {a0.data(), a1.data(), nullptr};
      c.run(2, argv);
    }
    if (!cap.seen) throw Error(ExitCode::kInternal, "command '" + c.name + "' returned before reading its options");
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace lutc::cli
