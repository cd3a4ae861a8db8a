// One HTTP probe's libcurl easy handle and what it has read. Internal to the prober
// (prober.cc drives the handles through its curl multi); the verdict is a pure function
// so that it can be tested without a server.
#ifndef SLUICE_HEALTH_HTTP_TRANSFER_H_
#define SLUICE_HEALTH_HTTP_TRANSFER_H_

#include <curl/curl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "health/prober.h"

namespace sluice::health {

struct HttpVerdict {
  bool success = false;
  std::string detail;
};

// Judges a complete response: the status range, then the body substring.
HttpVerdict JudgeHttpResponse(const ProbeSpec& spec, int64_t status, std::string_view body);

class HttpTransfer {
 public:
  // Null when libcurl cannot make a handle (out of memory).
  static std::unique_ptr<HttpTransfer> Create(const ProbeSpec& spec);
  ~HttpTransfer();
  HttpTransfer(const HttpTransfer&) = delete;
  HttpTransfer& operator=(const HttpTransfer&) = delete;

  CURL* easy() const { return easy_; }
  // The verdict once libcurl reports the transfer done with `code`.
  HttpVerdict Verdict(CURLcode code) const;

 private:
  HttpTransfer(const ProbeSpec& spec, CURL* easy);
  static size_t OnBody(char* data, size_t size, size_t count, void* self);

  ProbeSpec spec_;
  CURL* easy_;
  curl_slist* headers_ = nullptr;
  std::string url_;
  std::string body_;
  bool body_capped_ = false;  // we stopped the transfer at kMaxHttpBodyBytes
  char error_[CURL_ERROR_SIZE] = {};
};

}  // namespace sluice::health

#endif  // SLUICE_HEALTH_HTTP_TRANSFER_H_
