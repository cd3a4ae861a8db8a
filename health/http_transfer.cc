#include "health/http_transfer.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace sluice::health {
namespace {

// Every HTTP probe socket closes with RST (SO_LINGER {1, 0}), like the TCP probes: see
// README.md. libcurl calls this right after socket(2), before connect(2).
int SetLingerZero(void* /*clientp*/, curl_socket_t fd, curlsocktype /*purpose*/) {
  const linger off{.l_onoff = 1, .l_linger = 0};
  if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &off, sizeof(off)) != 0) return CURL_SOCKOPT_ERROR;
  return CURL_SOCKOPT_OK;
}

}  // namespace

HttpVerdict JudgeHttpResponse(const ProbeSpec& spec, int64_t status, std::string_view body) {
  if (status < spec.status_min || status > spec.status_max) {
    return {.success = false, .detail = absl::StrCat("status ", status)};
  }
  if (!spec.body_contains.empty() && body.find(spec.body_contains) == std::string_view::npos) {
    return {.success = false,
            .detail = absl::StrCat("status ", status, ", body lacks \"", spec.body_contains, "\"")};
  }
  return {.success = true, .detail = absl::StrCat("status ", status)};
}

std::unique_ptr<HttpTransfer> HttpTransfer::Create(const ProbeSpec& spec) {
  CURL* easy = curl_easy_init();
  if (easy == nullptr) return nullptr;
  return std::unique_ptr<HttpTransfer>(new HttpTransfer(spec, easy));
}

HttpTransfer::HttpTransfer(const ProbeSpec& spec, CURL* easy) : spec_(spec), easy_(easy) {
  const std::string path = spec.path.empty() || spec.path[0] != '/' ? "/" + spec.path : spec.path;
  url_ = absl::StrCat("http://", spec.address.ToString(), path);
  if (!spec.host.empty()) headers_ = curl_slist_append(headers_, ("Host: " + spec.host).c_str());
  // The prober's deadline decides timeouts (prober.cc); libcurl's own limit is a backstop
  // a second later so that it never races the deadline for the verdict.
  const int64_t timeout_ms = absl::ToInt64Milliseconds(spec.timeout) + 1000;

  curl_easy_setopt(easy_, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(easy_, CURLOPT_PROXY, "");  // ignore http_proxy and friends
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
  curl_easy_setopt(easy_, CURLOPT_USERAGENT, "sluice-health");
  curl_easy_setopt(easy_, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);       // we are one thread among many
  curl_easy_setopt(easy_, CURLOPT_FORBID_REUSE, 1L);   // a fresh connection per probe
  curl_easy_setopt(easy_, CURLOPT_FRESH_CONNECT, 1L);  // (what a client would get)
  curl_easy_setopt(easy_, CURLOPT_SOCKOPTFUNCTION, &SetLingerZero);
  curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(timeout_ms));  // NOLINT(google-runtime-int)
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_);
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &HttpTransfer::OnBody);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
}

HttpTransfer::~HttpTransfer() {
  curl_easy_cleanup(easy_);
  curl_slist_free_all(headers_);
}

size_t HttpTransfer::OnBody(char* data, size_t size, size_t count, void* self) {
  auto* transfer = static_cast<HttpTransfer*>(self);
  const size_t bytes = size * count;
  if (transfer->spec_.body_contains.empty()) return bytes;  // the status is all we need
  const size_t room = kMaxHttpBodyBytes - transfer->body_.size();
  transfer->body_.append(data, std::min(room, bytes));
  if (bytes >= room) {
    // Enough read: returning short makes libcurl stop with CURLE_WRITE_ERROR.
    transfer->body_capped_ = true;
    return 0;
  }
  return bytes;
}

HttpVerdict HttpTransfer::Verdict(CURLcode code) const {
  if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && body_capped_)) {
    long status = 0;  // NOLINT(google-runtime-int): libcurl's type
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    return JudgeHttpResponse(spec_, status, body_);
  }
  if (code == CURLE_COULDNT_CONNECT) {
    long os_errno = 0;  // NOLINT(google-runtime-int)
    curl_easy_getinfo(easy_, CURLINFO_OS_ERRNO, &os_errno);
    if (os_errno == ECONNREFUSED) return {.success = false, .detail = "connect refused"};
  }
  if (code == CURLE_GOT_NOTHING) return {.success = false, .detail = "empty reply"};
  return {.success = false,
          .detail = absl::StrCat("http: ", error_[0] != '\0' ? error_ : curl_easy_strerror(code))};
}

}  // namespace sluice::health
