// The worker → writer path: records taken, submitted, rendered by the
// writer thread into a file, filtered by CEL, and counted when a worker runs
// out of records.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "dataplane/access_log/sink.h"
#include "dataplane/access_log/writer.h"

namespace lg::access_log {
namespace {
namespace pb = linegate::snapshot::v1;
namespace fs = std::filesystem;

class AccessLogWriter : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lg-alog-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  pb::Telemetry text_log(const std::string& file, const std::string& filter = "") {
    pb::Telemetry t;
    pb::AccessLog* l = t.add_access_logs();
    l->set_provider("p");
    l->set_path((dir_ / file).string());
    l->set_text_format("%RESPONSE_CODE% %REQ(:PATH)% %HOSTNAME%\n");
    l->set_filter(filter);
    return t;
  }

  void submit(Sink& sink, uint16_t code, const std::string& path) {
    Record* r = sink.take(0);
    ASSERT_NE(r, nullptr);
    r->response_code = code;
    r->add(Field::request_header, path, ":path");
    sink.submit(0, r);
  }

  std::string read(const std::string& file) {
    std::ifstream in(dir_ / file);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  fs::path dir_;
};

TEST_F(AccessLogWriter, RendersFiltersAndFlushesWhatWasSubmitted) {
  std::string error;
  auto sink = Sink::create(1, 8, &error);
  ASSERT_NE(sink, nullptr) << error;
  {
    Writer w(*sink, "gw-1");
    pb::Telemetry t = text_log("all.log");
    *t.add_access_logs() = text_log("errors.log", "response.code >= 500").access_logs(0);
    ASSERT_TRUE(w.configure(t).empty());
    submit(*sink, 200, "/ok");
    submit(*sink, 503, "/down");
    submit(*sink, 414, std::string(Record::kTextBytes, 'x'));  // cut short, and counted
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (w.stats().written < 4 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(w.stats().written, 4u);
    EXPECT_EQ(w.stats().filtered, 2u);
    EXPECT_EQ(w.stats().truncated, 1u);
  }  // the writer has flushed what it wrote by the time it is gone
  const std::string cut(Record::kTextBytes - std::string_view(":path").size(), 'x');
  EXPECT_EQ(read("all.log"), "200 /ok gw-1\n503 /down gw-1\n414 " + cut + " gw-1\n");
  EXPECT_EQ(read("errors.log"), "503 /down gw-1\n");
}

TEST_F(AccessLogWriter, CountsWhatItLeavesOut) {
  std::string error;
  auto sink = Sink::create(1, 2, &error);
  ASSERT_NE(sink, nullptr) << error;
  Writer w(*sink, "gw");
  pb::Telemetry t = text_log("x.log", "request.headers['x-missing'] == 'y'");  // no such key: an error
  ASSERT_TRUE(w.configure(t).empty());
  // Two records in flight, none left: the third request is not logged.
  Record* a = sink->take(0);
  Record* b = sink->take(0);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(sink->take(0), nullptr);
  EXPECT_EQ(w.stats().dropped, 1u);
  sink->submit(0, a);
  sink->submit(0, b);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (w.stats().filter_errors < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(w.stats().filter_errors, 2u);
  EXPECT_EQ(w.stats().written, 0u);
  EXPECT_NE(sink->take(0), nullptr) << "rendered records come back to the worker";
}

TEST_F(AccessLogWriter, RejectsWhatItCannotWrite) {
  std::string error;
  auto sink = Sink::create(1, 2, &error);
  ASSERT_NE(sink, nullptr) << error;
  Writer w(*sink, "gw");
  pb::Telemetry t = text_log("x.log", "response.code >=");
  t.mutable_access_logs(0)->set_text_format("%NOT_A_COMMAND%");
  const std::vector<std::string> errors = w.configure(t);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("provider \"p\""), std::string::npos) << errors[0];
}

}  // namespace
}  // namespace lg::access_log
