// sl-forward --metrics ADDR:PORT: a minimal HTTP server on its own thread
// that answers GET /metrics with the OpenMetrics text a render function
// gives, so that Prometheus can scrape the forwarder. Control plane only:
// it never touches a worker's data, only what the render function reads.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace sl::core {

class MetricsServer {
public:
    // Listens on `address` ("127.0.0.1:9100", "[::1]:9100", "0.0.0.0:0"
    // for any free port). Throws ConfigError for an address that does not
    // parse and RuntimeError when it cannot listen there.
    MetricsServer(const std::string& address, std::function<std::string()> render);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // Where it listens, with the port it got: "http://127.0.0.1:9100/metrics".
    const std::string& url() const noexcept { return url_; }

private:
    void serve() noexcept;
    void answer(int client) noexcept;

    int listener_ = -1;
    std::string url_;
    std::function<std::string()> render_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// An OpenMetrics label value: backslash, double quote and newline escaped.
std::string metrics_label(const std::string& value);

}  // namespace sl::core
