#include "api/http_server.h"

#include <gtest/gtest.h>

#include <thread>

#include "api/http_test_client.h"

namespace strand::api {
namespace {

using strand::testing::HttpCall;
using strand::testing::RawConnect;
using strand::testing::RawExchange;
using strand::testing::RawReadUntilClose;
using strand::testing::RawSend;
using namespace std::chrono_literals;

// The status line of a raw answer ("HTTP/1.1 400 Bad Request"), or what came back.
std::string StatusLine(const std::string& answer) { return answer.substr(0, answer.find('\r')); }

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(size_t max_body = 1 << 20) {
    HttpServerOptions o;
    o.max_body_bytes = max_body;
    StartServer(o);
  }
  void StartServer(HttpServerOptions o) {
    o.address = "127.0.0.1:0";
    auto s = HttpServer::Start(o, [this](HttpRequest&& req, Responder respond) {
      last_ = req;
      HttpResponse r;
      if (req.body_too_large) {
        r.status = 413;
      } else if (req.path == "/later") {
        // Answer from another thread, as the WAL callback does.
        std::thread([respond = std::move(respond)]() mutable {
          HttpResponse late;
          late.body = "late";
          respond(std::move(late));
        }).detach();
        return;
      } else {
        r.body = req.method + " " + req.path + " " + std::to_string(req.body.size());
      }
      respond(std::move(r));
    });
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::unique_ptr<HttpServer> server_;
  std::string base_;
  HttpRequest last_;
};

TEST_F(HttpServerTest, ServesRequestsAndParsesQuery) {
  StartServer();
  auto r = HttpCall("GET", base_ + "/a%20b?x=1&y=two+words&z");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /a b 0");
  EXPECT_EQ(last_.Query("x"), "1");
  EXPECT_EQ(last_.Query("y"), "two words");
  bool found = false;
  last_.Query("z", &found);
  EXPECT_TRUE(found);
}

TEST_F(HttpServerTest, AnswersFromAnotherThread) {
  StartServer();
  auto r = HttpCall("GET", base_ + "/later");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "late");
}

TEST_F(HttpServerTest, BodyOverLimitIsFlaggedNotRead) {
  StartServer(1000);
  auto r = HttpCall("POST", base_ + "/x", std::string(5000, 'a'));
  EXPECT_EQ(r.status, 413);
  auto ok = HttpCall("POST", base_ + "/x", std::string(500, 'a'));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "POST /x 500");
}

TEST_F(HttpServerTest, HeadersAreLowerCased) {
  StartServer();
  HttpCall("GET", base_ + "/h", "", {"X-Scope-OrgID: acme"});
  EXPECT_EQ(last_.Header("x-scope-orgid"), "acme");
}

TEST_F(HttpServerTest, MalformedRequestsGetAnAnswerWithAReason) {
  StartServer();
  const int port = server_->port();
  struct Case {
    std::string request;
    std::string status;
  } cases[] = {
      {"GARBAGE\r\n\r\n", "HTTP/1.1 400"},
      {"GET /x HTTP/9\r\n\r\n", "HTTP/1.1 400"},
      {"GET /x HTTP/1.1\r\nBad Header\r\n\r\n", "HTTP/1.1 400"},
      {"POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n", "HTTP/1.1 400"},
      {"POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
       "HTTP/1.1 400"},
      {"POST /x HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5\r\nhello\r\n0\r\n\r\n",
       "HTTP/1.1 400"},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n", "HTTP/1.1 400"},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc", "HTTP/1.1 501"},
      {"POST /x HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 411"},
      {"GET /" + std::string(70'000, 'a') + " HTTP/1.1\r\n\r\n", "HTTP/1.1 414"},
      {"GET /x HTTP/1.1\r\nX-Big: " + std::string(70'000, 'b') + "\r\n\r\n", "HTTP/1.1 431"},
  };
  for (const Case& c : cases) {
    const std::string answer = RawExchange(port, c.request);
    EXPECT_EQ(StatusLine(answer).substr(0, 12), c.status) << c.request.substr(0, 80);
    // A reason in the body, and the connection closed (RawExchange returned before 5 s).
    EXPECT_NE(answer.find("\r\n\r\n"), std::string::npos);
    EXPECT_GT(answer.size() - answer.find("\r\n\r\n"), 6u) << answer;
  }
  // The server still serves well-formed requests.
  EXPECT_EQ(HttpCall("GET", base_ + "/ok").status, 200);
}

TEST_F(HttpServerTest, ChunkedBodyIsAccepted) {
  StartServer();
  const std::string answer = RawExchange(
      server_->port(),
      "POST /c HTTP/1.1\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(StatusLine(answer), "HTTP/1.1 200 OK");
  EXPECT_NE(answer.find("POST /c 5"), std::string::npos);
}

TEST_F(HttpServerTest, IdleSlowHeaderAndStalledBodyConnectionsAreClosed) {
  HttpServerOptions o;
  o.limits.idle_timeout = 300ms;
  o.limits.read_header_timeout = 300ms;
  o.limits.body_read_timeout = 300ms;
  StartServer(o);
  const int port = server_->port();
  auto closed_within = [&](const std::string& send_first) {
    int fd = RawConnect(port);
    if (!send_first.empty()) RawSend(fd, send_first);
    bool closed = false;
    RawReadUntilClose(fd, 5s, &closed);
    close(fd);
    return closed;
  };
  EXPECT_TRUE(closed_within(""));                                    // idle
  EXPECT_TRUE(closed_within("GET /x HTTP/1.1\r\nHost: a\r\n"));        // header never ends
  EXPECT_TRUE(closed_within("POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc"));  // body stalls

  // A header trickling in a byte at a time is closed too, though each byte is in time.
  int fd = RawConnect(port);
  const std::string header = "GET /x HTTP/1.1\r\nX-Slow: " + std::string(100, 'z');
  bool closed = false;
  for (char c : header) {
    if (!RawSend(fd, std::string_view(&c, 1))) {
      closed = true;
      break;
    }
    RawReadUntilClose(fd, 50ms, &closed);
    if (closed) break;
  }
  EXPECT_TRUE(closed);
  close(fd);
  EXPECT_EQ(HttpCall("GET", base_ + "/ok").status, 200);
}

TEST_F(HttpServerTest, ConnectionsPastTheCapAreRefusedAndServingResumesWhenTheyGo) {
  HttpServerOptions o;
  o.limits.max_connections = 4;
  StartServer(o);
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(RawConnect(server_->port()));
  for (int i = 0; i < 200 && server_->connections() < 4; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(server_->connections(), 4u);
  const std::string refused = RawExchange(server_->port(), "GET /x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(StatusLine(refused), "HTTP/1.1 503 Service Unavailable");
  for (int fd : idle) close(fd);
  for (int i = 0; i < 200 && server_->connections() > 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(HttpCall("GET", base_ + "/ok").status, 200);
}

// With every descriptor of the process in use, accept() fails (EMFILE) and the pending
// connection stays queued. Once descriptors are free again the server accepts it.
TEST_F(HttpServerTest, AcceptsAgainAfterDescriptorsRunOut) {
  StartServer();
  strand::testing::DescriptorExhaustion exhaustion(1);  // room for the client's socket only
  int client = RawConnect(server_->port());
  ASSERT_GE(client, 0);
  RawSend(client, "GET /after HTTP/1.1\r\nConnection: close\r\n\r\n");
  std::this_thread::sleep_for(300ms);  // the server fails to accept meanwhile
  exhaustion.Release();
  const std::string answer = RawReadUntilClose(client, 5s);
  close(client);
  EXPECT_EQ(StatusLine(answer), "HTTP/1.1 200 OK");
  EXPECT_NE(answer.find("GET /after 0"), std::string::npos);
}

TEST(HttpServerAddressTest, ParsesHostPortForms) {
  EXPECT_EQ(ParseHostPort("0.0.0.0:4318")->second, 4318);
  EXPECT_EQ(ParseHostPort(":3200")->first, "0.0.0.0");
  EXPECT_EQ(ParseHostPort("[::1]:80")->first, "::1");
  EXPECT_EQ(ParseHostPort("localhost:1")->first, "127.0.0.1");
  EXPECT_FALSE(ParseHostPort("nohost").ok());
  EXPECT_FALSE(ParseHostPort("h:99999").ok());
}

TEST(PercentDecodeTest, DecodesEscapesAndLeavesBadOnes) {
  EXPECT_EQ(PercentDecode("a%2Fb%2"), "a/b%2");
  EXPECT_EQ(PercentDecode("%252F"), "%2F");  // once, as Grafana double-encodes tags
}

}  // namespace
}  // namespace strand::api
