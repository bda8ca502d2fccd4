#include "dataplane/access_log/writer.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "l7/access_log/filter_attributes.h"

namespace lg::access_log {
namespace pb = linegate::snapshot::v1;

namespace {

constexpr unsigned kBurst = 64;
constexpr auto kIdleSleep = std::chrono::milliseconds(2);
constexpr size_t kFlushBytes = 64 * 1024;  // a file's pending text written out beyond this

std::string describe(const pb::AccessLog& l) {
  return "access log " + (l.provider().empty() ? std::string("accessLogFile") : "provider \"" + l.provider() + "\"") +
         " (" + l.path() + ")";
}

}  // namespace

Writer::Writer(Sink& sink, std::string hostname) : sink_(sink), hostname_(std::move(hostname)) {
  process_.hostname = hostname_;
  thread_ = std::thread([this] { run(); });
}

Writer::~Writer() {
  stop_.store(true);
  thread_.join();
  for (auto& [path, f] : files_)
    if (f != stdout && f != stderr) std::fclose(f);
}

std::vector<std::string> Writer::configure(const pb::Telemetry& t) {
  std::vector<std::string> errors;
  auto c = std::make_shared<Config>();
  for (const pb::AccessLog& l : t.access_logs()) {
    Log log;
    log.provider = l.provider();
    log.path = l.path().empty() ? "/dev/stdout" : l.path();
    log.json = l.encoding() == pb::ACCESS_LOG_JSON;
    std::string error;
    if (log.json) {
      for (const pb::KeyValue& kv : l.json_labels()) {
        ParseResult p = parse(kv.value());
        if (!p.ok()) error = "label \"" + kv.key() + "\": " + p.error;
        log.labels.emplace_back(kv.key(), std::move(p.format));
      }
      if (log.labels.empty()) error = "JSON format without labels";
    } else {
      ParseResult p = parse(l.text_format());
      if (!p.ok()) error = p.error;
      if (l.text_format().empty()) error = "empty format";
      log.text = std::move(p.format);
    }
    if (!l.filter().empty()) {
      ctrl::cel::CompileResult f = ctrl::cel::compile(l.filter(), filter_variables());
      if (!f.program) error = "filter \"" + l.filter() + "\": " + f.error;
      log.filter = std::move(f.program);
    }
    if (!error.empty()) {
      errors.push_back(describe(l) + ": " + error);
      continue;
    }
    c->logs.push_back(std::move(log));
  }
  std::lock_guard lock(mu_);
  config_ = std::move(c);
  return errors;
}

WriterStats Writer::stats() const {
  WriterStats s;
  s.written = written_.load(std::memory_order_relaxed);
  s.filtered = filtered_.load(std::memory_order_relaxed);
  s.filter_errors = filter_errors_.load(std::memory_order_relaxed);
  s.write_failed = write_failed_.load(std::memory_order_relaxed);
  s.dropped = sink_.dropped();
  s.truncated = truncated_.load(std::memory_order_relaxed);
  return s;
}

void Writer::run() {
  for (;;) {
    const bool stopping = stop_.load();
    const unsigned n = drain();
    if (n == 0) {
      flush();
      if (stopping) return;
      std::this_thread::sleep_for(kIdleSleep);
    }
  }
}

unsigned Writer::drain() {
  std::shared_ptr<const Config> c;
  {
    std::lock_guard lock(mu_);
    c = config_;
  }
  unsigned total = 0;
  Record* batch[kBurst];
  for (unsigned w = 0; w < sink_.workers(); ++w) {
    const unsigned n = sink_.collect(w, batch, kBurst);
    for (unsigned i = 0; i < n; ++i)
      if (c) write(*batch[i], *c);
    sink_.recycle(w, batch, n);
    total += n;
  }
  return total;
}

void Writer::write(const Record& r, const Config& c) {
  if (r.truncated) truncated_.fetch_add(1, std::memory_order_relaxed);
  nlohmann::json attributes;  // built once per record, when a filter needs it
  for (const Log& log : c.logs) {
    if (log.filter) {
      if (attributes.is_null()) attributes = filter_attributes(r);
      const ctrl::cel::EvalResult e = ctrl::cel::evaluate_with(*log.filter, attributes);
      if (e.kind == ctrl::cel::EvalResult::Kind::violated) {
        filtered_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (e.kind == ctrl::cel::EvalResult::Kind::error) {
        // Envoy's CEL filter logs nothing when its expression fails;
        // an error is counted and the entry left out the same way.
        filter_errors_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
    }
    std::FILE* f = file(log.path);
    if (f == nullptr) {
      write_failed_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    std::string& out = pending_[f];
    if (log.json) {
      render_json(log.labels, r, process_, out);
    } else {
      render_text(log.text, r, process_, out);
    }
    written_.fetch_add(1, std::memory_order_relaxed);
    if (out.size() >= kFlushBytes) flush();
  }
}

std::FILE* Writer::file(const std::string& path) {
  if (auto it = files_.find(path); it != files_.end()) return it->second;
  std::FILE* f = path == "/dev/stdout" ? stdout : path == "/dev/stderr" ? stderr : std::fopen(path.c_str(), "a");
  if (f != nullptr) files_.emplace(path, f);  // a path that failed is tried again for the next entry
  return f;
}

void Writer::flush() {
  for (auto& [f, text] : pending_) {
    if (text.empty()) continue;
    if (std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fflush(f) != 0) {
      write_failed_.fetch_add(1, std::memory_order_relaxed);
      std::clearerr(f);
    }
    text.clear();
  }
}

}  // namespace lg::access_log
