// libcurl implementation of HttpClient. One easy handle per request: the hub code makes few
// requests (a listing, then one per file), so connection reuse is not worth shared state.
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "core/error.h"
#include "hub/http_client.h"

namespace insitu::hub {

std::string HttpResponse::header(const std::string& name) const {
  std::string key = name;
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  auto it = headers.find(key);
  return it == headers.end() ? "" : it->second;
}

namespace {

constexpr size_t kMaxErrorBody = 64 * 1024;

struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  bool sink_refused = false;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response starts (after a redirect or a 100 Continue): forget the previous headers.
    t->response->headers.clear();
    const size_t sp = line.find(' ');
    t->response->status = sp == std::string::npos ? 0 : std::atoi(line.c_str() + sp + 1);
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string::npos) return n;
  std::string key = line.substr(0, colon);
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  size_t v = colon + 1;
  while (v < line.size() && (line[v] == ' ' || line[v] == '\t')) ++v;
  t->response->headers[key] = line.substr(v);
  return n;
}

size_t on_write(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  const int status = t->response->status;
  if (t->request->on_body && status >= 200 && status < 300) {
    if (!t->request->on_body(*t->response, data, n)) {
      t->sink_refused = true;
      return 0;  // makes curl abort with CURLE_WRITE_ERROR
    }
    return n;
  }
  std::string& body = t->response->body;
  if (t->request->on_body) {  // an error page: keep a bounded prefix for the message
    body.append(data, std::min(n, kMaxErrorBody - std::min(kMaxErrorBody, body.size())));
  } else {
    body.append(data, n);
  }
  return n;
}

class CurlClient : public HttpClient {
 public:
  CurlClient() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  HttpResponse send(const HttpRequest& request) override {
    HttpResponse response;
    Transfer t{&request, &response};
    CURL* curl = curl_easy_init();
    if (!curl) throw Error(ErrorCode::kOutOfMemory, "cannot create an HTTP handle (libcurl)");
    curl_slist* headers = nullptr;
    for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    // A redirect to another host (the hub's CDN) drops the Authorization header: curl never
    // forwards custom auth headers across hosts unless CURLOPT_UNRESTRICTED_AUTH is set.
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "insitu/0.1.0");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, request.connect_timeout_s);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, request.stall_timeout_s);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    const CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t.sink_refused)) {
      const std::string why = error[0] ? error : curl_easy_strerror(rc);
      throw Error(ErrorCode::kIo,
                  "network error on " + request.method + " " + request.url + ": " + why);
    }
    if (t.sink_refused)
      throw Error(ErrorCode::kIo, "transfer of " + request.url + " stopped by the receiver");
    return response;
  }
};

}  // namespace

std::unique_ptr<HttpClient> make_curl_client() {
  return std::make_unique<CurlClient>();
}

}  // namespace insitu::hub
