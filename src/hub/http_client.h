// The small HTTP interface the hub code uses, so tests can point it at a local server (through
// HF_ENDPOINT) or replace it. The one implementation is libcurl (HTTPS, redirects, proxies from
// the usual environment variables).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace insitu::hub {

struct HttpResponse;

struct HttpRequest {
  std::string method = "GET";  // "GET" or "HEAD"
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  bool follow_redirects = true;      // false: return the 3xx itself (to read its headers)
  // Receives the body of a 2xx response chunk by chunk, with that response's status and
  // headers; returning false aborts the transfer. Null: the body is collected into
  // HttpResponse::body. Non-2xx bodies are always collected (truncated), so error pages never
  // reach a sink.
  std::function<bool(const HttpResponse& head, const char* data, size_t size)> on_body;
  long connect_timeout_s = 10;
  long stall_timeout_s = 60;  // abort when no byte arrives for this long
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // of the last response; names lower-cased
  std::string body;
  // Value of a header (name in any case), "" if absent.
  std::string header(const std::string& name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Any status is a response; only transport failures (no connection, reset, cut body,
  // timeout, TLS) throw Error(kIo) with a message naming the URL and the cause.
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

std::unique_ptr<HttpClient> make_curl_client();

}  // namespace insitu::hub
