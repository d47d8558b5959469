#include "core/metrics.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include <sl/error.hpp>

namespace sl::core {
namespace {

constexpr int kPollMs = 100;          // how soon a stop is noticed
constexpr int kClientBudgetMs = 2000;  // all one client gets, reading and writing
constexpr size_t kMaxRequest = 8192;   // a request line and headers, no body

using Clock = std::chrono::steady_clock;

// Milliseconds left until `deadline`, at least 0.
int left_ms(Clock::time_point deadline) noexcept {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return ms > 0 ? static_cast<int>(ms) : 0;
}

// The client's socket is non-blocking: a client that stops reading costs
// the thread its budget, not the run.
bool send_all(int fd, Clock::time_point deadline, const std::string& data) noexcept {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd, POLLOUT, 0};
            if (::poll(&p, 1, left_ms(deadline)) > 0) continue;
        }
        return false;
    }
    return true;
}

std::string response(const char* status, const char* type, const std::string& body) {
    return fmt::format("HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", status,
                       type, body.size(), body);
}

}  // namespace

std::string metrics_label(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

MetricsServer::MetricsServer(const std::string& address, std::function<std::string()> render)
    : render_(std::move(render)) {
    size_t colon = address.rfind(':');
    std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
    std::string port = colon == std::string::npos ? "" : address.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty() || port.empty() || port.find_first_not_of("0123456789") != std::string::npos)
        throw ConfigError(fmt::format("--metrics takes ADDR:PORT (e.g. 127.0.0.1:9100), not '{}'", address));
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
        throw ConfigError(fmt::format("--metrics {}: {}", address, gai_strerror(rc)));
    int err = 0;
    for (addrinfo* a = found; a && listener_ < 0; a = a->ai_next) {
        int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 16) == 0) {
            listener_ = fd;
        } else {
            err = errno;
            ::close(fd);
        }
    }
    freeaddrinfo(found);
    if (listener_ < 0) throw RuntimeError(fmt::format("--metrics {}: {}", address, std::strerror(err)));
    // poll() may say a connection waits that is gone by accept(): never block there.
    ::fcntl(listener_, F_SETFL, ::fcntl(listener_, F_GETFL) | O_NONBLOCK);
    // The port it got, which differs from the one asked for when that was 0.
    sockaddr_storage bound{};
    socklen_t length = sizeof(bound);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&bound), &length);
    char text[INET6_ADDRSTRLEN] = "?";
    unsigned bound_port = 0;
    if (bound.ss_family == AF_INET6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&bound);
        inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof(text));
        bound_port = ntohs(a->sin6_port);
        url_ = fmt::format("http://[{}]:{}/metrics", text, bound_port);
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&bound);
        inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text));
        bound_port = ntohs(a->sin_port);
        url_ = fmt::format("http://{}:{}/metrics", text, bound_port);
    }
    thread_ = std::thread([this] { serve(); });
}

MetricsServer::~MetricsServer() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    if (listener_ >= 0) ::close(listener_);
}

void MetricsServer::serve() noexcept {
    while (!stop_.load(std::memory_order_relaxed)) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, kPollMs) <= 0) continue;
        int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (client < 0) continue;
        answer(client);
        ::shutdown(client, SHUT_WR);  // the response ends here, whatever the client sent
        ::close(client);
    }
}

// One request per connection: Prometheus opens one per scrape.
void MetricsServer::answer(int client) noexcept {
    auto deadline = Clock::now() + std::chrono::milliseconds(kClientBudgetMs);
    std::string request;
    char buffer[1024];
    while (request.find("\r\n\r\n") == std::string::npos && request.find("\n\n") == std::string::npos) {
        if (request.size() > kMaxRequest || stop_.load(std::memory_order_relaxed)) return;
        pollfd p{client, POLLIN, 0};
        if (::poll(&p, 1, std::min(left_ms(deadline), kPollMs)) <= 0) {
            if (left_ms(deadline) == 0) return;
            continue;
        }
        ssize_t n = ::recv(client, buffer, sizeof(buffer), 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (n <= 0) return;
        request.append(buffer, static_cast<size_t>(n));
    }
    std::string line = request.substr(0, request.find_first_of("\r\n"));
    try {
        if (line.rfind("GET /metrics ", 0) == 0 || line == "GET /metrics") {
            send_all(client, deadline, response("200 OK", "application/openmetrics-text; version=1.0.0; charset=utf-8",
                                      render_()));
        } else if (line.rfind("GET ", 0) == 0) {
            send_all(client, deadline, response("404 Not Found", "text/plain", "streamline serves /metrics only\n"));
        } else {
            send_all(client, deadline, response("405 Method Not Allowed", "text/plain", "GET /metrics\n"));
        }
    } catch (const std::exception&) {
        send_all(client, deadline, response("500 Internal Server Error", "text/plain", "the metrics could not be read\n"));
    }
}

}  // namespace sl::core
