// Test helpers for the metrics endpoint: a StatusBoard with known content and a plain
// HTTP/1.0 GET over a socket. Test threads only.
#ifndef SLUICE_TESTS_LB_METRICS_TEST_UTIL_H_
#define SLUICE_TESTS_LB_METRICS_TEST_UTIL_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "lb/status_board.h"
#include "prometheus/metric_family.h"
#include "prometheus/metric_type.h"

namespace sluice::lb::testing {

// A collector's families as name{label="value",...} -> value (counters and gauges).
inline std::map<std::string, double> Series(const std::vector<prometheus::MetricFamily>& families) {
  std::map<std::string, double> out;
  for (const auto& family : families) {
    for (const auto& metric : family.metric) {
      std::vector<std::string> labels;
      for (const auto& label : metric.label) {
        labels.push_back(absl::StrCat(label.name, "=\"", label.value, "\""));
      }
      const double value = family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                                          : metric.gauge.value;
      out[absl::StrFormat("%s{%s}", family.name, absl::StrJoin(labels, ","))] = value;
    }
  }
  return out;
}

// "web" with three backends (up; down; up but drained at runtime, weight 5) and "dns"
// with one backend that is up but has weight 0. Generation 7; reloads 3 ok, 1 failed,
// the last one ok at unix time 1700000000.5.
inline void FillSampleBoard(StatusBoard& board) {
  ServiceStatus web = {.id = 1, .name = "web", .vip = "10.0.100.1:80", .protocol = "tcp"};
  web.backends = {
      {.id = 1, .address = "10.0.0.11:80", .weight = 1, .up = true},
      {.id = 2, .address = "10.0.0.12:80", .weight = 2, .up = false},
      {.id = 3, .address = "[fd00::13]:80", .weight = 5, .runtime_drain = true, .up = true},
  };
  ServiceStatus dns = {.id = 2, .name = "dns", .vip = "10.0.100.2:53", .protocol = "udp"};
  dns.backends = {{.id = 4, .address = "10.0.0.21:53", .weight = 0, .up = true}};
  board.SetServices(7, {web, dns});
  board.SetReload({.successes = 3,
                   .failures = 1,
                   .last_successful = true,
                   .last_success_time = absl::FromUnixMillis(1700000000500)});
}

// GET `path` from 127.0.0.1:`port`; returns the whole response (status line, headers,
// body).
inline absl::StatusOr<std::string> HttpGet(uint16_t port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket");
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return absl::UnavailableError(absl::StrCat("connect to port ", port));
  }
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError("send");
  }
  // Reads to the end of the body by Content-Length, as Prometheus does: civetweb may
  // keep the connection open for a while after the response.
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof buffer, 0)) > 0) {
    response.append(buffer, n);
    const size_t end = response.find("\r\n\r\n");
    if (end == std::string::npos) continue;
    const size_t at = response.find("\r\nContent-Length: ");
    size_t length = 0;
    if (at == std::string::npos || at > end ||
        !absl::SimpleAtoi(response.substr(at + 18, response.find("\r\n", at + 2) - at - 18),
                          &length)) {
      continue;  // no length: read to the end of the stream
    }
    if (response.size() >= end + 4 + length) break;
  }
  close(fd);
  if (n < 0) return absl::UnavailableError("recv");
  return response;
}

// The body of an HTTP response (after the blank line), or "" if there is none.
inline std::string HttpBody(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

}  // namespace sluice::lb::testing

#endif  // SLUICE_TESTS_LB_METRICS_TEST_UTIL_H_
