// HTTP(S) requests with client certificates through libcurl, as users make
// them with `curl --cert --key --cacert`.
#pragma once

#include <map>
#include <string>
#include <vector>

typedef void CURL;

namespace it {

struct Request {
    int port = 0;
    std::string path = "/";
    std::string cert;                  // PKI name ("eager"); empty: no client certificate
    bool tls = true;
    std::vector<std::string> headers;  // extra request headers, "Name: value"
    std::string cert_file, key_file;   // instead of `cert`: explicit files (e.g. issued by cscguard)
    bool http2 = false;                // ask for HTTP/2 (ALPN h2)
    bool fresh_connection = false;     // a new connection even if one is kept alive (TLS sessions still resume)
};

struct Response {
    long status = 0;                            // 0: no HTTP response (see error)
    std::map<std::string, std::string> headers;  // names lowercased
    std::string body;
    long new_connections = 0;  // 0 when a kept-alive connection was reused
    long http_version = 0;     // CURL_HTTP_VERSION_1_1, CURL_HTTP_VERSION_2_0...
    std::string error;

    std::string header(const std::string& lowercase_name) const;
};

// One libcurl handle: requests through the same Client reuse its connection
// (keep-alive), as a browser does.
class Client {
public:
    Client();
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    Response get(const Request& request);

private:
    CURL* curl_;
};

// One request on a fresh connection.
Response fetch(const Request& request);

}  // namespace it
