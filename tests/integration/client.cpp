#include "tests/integration/client.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <curl/curl.h>

#include "tests/integration/httpd.h"

namespace it {
namespace {

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* out) {
    std::string line(data, size * n);
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        value.erase(value.find_last_not_of(" \t\r\n") + 1);
        (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
    }
    return size * n;
}

struct CurlInit {
    CurlInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    ~CurlInit() { curl_global_cleanup(); }
};

}  // namespace

std::string Response::header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
}

Client::Client() {
    static CurlInit init;
    curl_ = curl_easy_init();
    if (!curl_) throw std::runtime_error("curl_easy_init failed");
}

Client::~Client() { curl_easy_cleanup(curl_); }

Response Client::get(const Request& request) {
    Response response;
    const std::string host_port = "localhost:" + std::to_string(request.port);
    const std::string url = (request.tls ? "https://" : "http://") + host_port + request.path;
    const std::string resolve_entry = host_port + ":127.0.0.1";
    curl_slist* resolve = curl_slist_append(nullptr, resolve_entry.c_str());
    curl_slist* headers = nullptr;
    for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
    const std::string ca = pki("kitty-ca.crt"), cert = pki(request.cert + ".crt"), key = pki(request.cert + ".key");

    curl_easy_reset(curl_);  // keeps the connection cache: keep-alive survives
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_CAINFO, ca.c_str());
    if (!request.cert_file.empty()) {
        curl_easy_setopt(curl_, CURLOPT_SSLCERT, request.cert_file.c_str());
        curl_easy_setopt(curl_, CURLOPT_SSLKEY, request.key_file.c_str());
    } else if (!request.cert.empty()) {
        curl_easy_setopt(curl_, CURLOPT_SSLCERT, cert.c_str());
        curl_easy_setopt(curl_, CURLOPT_SSLKEY, key.c_str());
    }
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &response.headers);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    if (request.http2) curl_easy_setopt(curl_, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    if (request.fresh_connection) curl_easy_setopt(curl_, CURLOPT_FRESH_CONNECT, 1L);

    const CURLcode rc = curl_easy_perform(curl_);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &response.status);
        curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &response.new_connections);
        curl_easy_getinfo(curl_, CURLINFO_HTTP_VERSION, &response.http_version);
    } else {
        response.error = curl_easy_strerror(rc);
    }
    curl_slist_free_all(resolve);
    curl_slist_free_all(headers);
    return response;
}

Response fetch(const Request& request) {
    Client client;
    return client.get(request);
}

}  // namespace it
