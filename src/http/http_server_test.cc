#include "http/http_server.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "http/http_test_client.h"
#include "http/self_signed_cert.h"
#include "http/status_codes.h"

namespace strand::http {
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

TEST_F(HttpServerTest, BodiesPastTheMemoryLimitAreRefusedRetryablyBeforeTheyAreRead) {
  // Tracked share: 4/5 of 100 kB = 80 kB. The resident gate is kept out of the way.
  MemoryBudget budget(100'000, [] { return uint64_t{0}; });
  HttpServerOptions o;
  o.memory = &budget;
  StartServer(o);
  const int port = server_->port();

  // One slow upload declares 60 kB and sends a little: its whole length is held.
  int slow = RawConnect(port);
  ASSERT_TRUE(RawSend(slow, "POST /slow HTTP/1.1\r\nContent-Length: 60000\r\n\r\nabc"));
  for (int i = 0; i < 200 && budget.used() < 60'000; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(budget.used(), 60'000u);

  // Another body of 30 kB does not fit: 503 with Retry-After, and it is not read.
  auto refused = HttpCall("POST", base_ + "/x", std::string(30'000, 'a'));
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.Header("retry-after"), "1");
  EXPECT_NE(refused.body.find("memory limit"), std::string::npos) << refused.body;
  // A chunked body is charged as it arrives and refused the same way.
  const std::string chunked = RawExchange(
      port, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n7530\r\n" +
                std::string(30'000, 'c') + "\r\n0\r\n\r\n");
  EXPECT_EQ(StatusLine(chunked).substr(0, 12), "HTTP/1.1 503") << StatusLine(chunked);
  // Small requests still pass.
  EXPECT_EQ(HttpCall("POST", base_ + "/x", std::string(1000, 'a')).status, 200);

  // When the slow upload goes, its bytes come back and the large body is served.
  close(slow);
  for (int i = 0; i < 200 && budget.used() > 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(budget.used(), 0u);
  auto ok = HttpCall("POST", base_ + "/x", std::string(30'000, 'a'));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "POST /x 30000");
  // Given back once the handler let the request go.
  for (int i = 0; i < 200 && budget.used() > 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(budget.used(), 0u);
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

// Writes a fresh self-signed certificate for "localhost" to `dir`/`name`.crt and .key.
struct CertFiles {
  std::string cert;
  std::string key;
};
CertFiles WriteCertificate(const std::string& dir, const std::string& name) {
  auto pair = MakeSelfSignedCertificate({"localhost"}, 1);
  EXPECT_TRUE(pair.ok()) << pair.status();
  CertFiles f{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  // Write then rename, as cert-manager's atomic update does.
  std::ofstream(f.cert + ".tmp") << pair->cert_pem;
  std::ofstream(f.key + ".tmp") << pair->key_pem;
  std::rename((f.key + ".tmp").c_str(), f.key.c_str());
  std::rename((f.cert + ".tmp").c_str(), f.cert.c_str());
  return f;
}

class HttpsServerTest : public HttpServerTest {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/https-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
    server_cert_ = WriteCertificate(dir_, "server");
  }
  void StartTls(TlsSettings tls) {
    HttpServerOptions o;
    o.tls = std::move(tls);
    StartServer(o);
    url_ = "https://localhost:" + std::to_string(server_->port());
    client_.ca_file = server_cert_.cert;
    client_.resolve = "localhost:" + std::to_string(server_->port()) + ":127.0.0.1";
  }
  TlsSettings ServerTls() {
    TlsSettings t;
    t.cert_file = server_cert_.cert;
    t.key_file = server_cert_.key;
    return t;
  }
  std::string dir_;
  CertFiles server_cert_;
  std::string url_;
  strand::testing::TlsClient client_;
};

TEST_F(HttpsServerTest, ServesHttpsAndPlaintextFails) {
  StartTls(ServerTls());
  auto r = HttpCall("GET", url_ + "/secure", "", {}, &client_);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /secure 0");
  EXPECT_EQ(HttpCall("GET", base_ + "/plain").status, 0);  // no HTTP answer
  bool closed = false;
  int fd = RawConnect(server_->port());
  RawSend(fd, "GET /plain HTTP/1.1\r\n\r\n");
  const std::string answer = RawReadUntilClose(fd, 5s, &closed);
  close(fd);
  EXPECT_TRUE(closed);
  EXPECT_EQ(answer.find("HTTP/1.1"), std::string::npos);
}

TEST_F(HttpsServerTest, MutualTlsRequiresAClientCertificate) {
  CertFiles client = WriteCertificate(dir_, "client");
  TlsSettings tls = ServerTls();
  tls.client_ca_file = client.cert;  // the client's self-signed certificate is its own CA
  StartTls(tls);
  EXPECT_EQ(HttpCall("GET", url_ + "/x", "", {}, &client_).status, 0);
  CertFiles stranger = WriteCertificate(dir_, "stranger");
  client_.cert_file = stranger.cert;
  client_.key_file = stranger.key;
  EXPECT_EQ(HttpCall("GET", url_ + "/x", "", {}, &client_).status, 0);
  client_.cert_file = client.cert;
  client_.key_file = client.key;
  EXPECT_EQ(HttpCall("GET", url_ + "/x", "", {}, &client_).status, 200);
}

TEST_F(HttpsServerTest, CertificateFilesAreReloadedWhenTheyChange) {
  TlsSettings tls = ServerTls();
  tls.reload_interval = 20ms;
  StartTls(tls);
  EXPECT_EQ(HttpCall("GET", url_ + "/before", "", {}, &client_).status, 200);
  const std::string old_ca = server_cert_.cert + ".old";
  std::filesystem::copy_file(server_cert_.cert, old_ca);
  WriteCertificate(dir_, "server");  // rotated in place
  std::this_thread::sleep_for(50ms);
  HttpCall("GET", url_ + "/trigger", "", {}, &client_);  // the first connection reloads
  EXPECT_EQ(HttpCall("GET", url_ + "/after", "", {}, &client_).status, 200);
  client_.ca_file = old_ca;
  EXPECT_EQ(HttpCall("GET", url_ + "/after", "", {}, &client_).status, 0);
}

TEST_F(HttpsServerTest, MinimumVersionIsEnforced) {
  TlsSettings tls = ServerTls();
  tls.min_version = "1.3";
  StartTls(tls);
  EXPECT_EQ(HttpCall("GET", url_ + "/x", "", {}, &client_).status, 200);
  client_.max_tls12 = true;
  EXPECT_EQ(HttpCall("GET", url_ + "/x", "", {}, &client_).status, 0);
}

TEST(TlsSettingsTest, BadSettingsAreRefusedWithTheirKey) {
  TlsSettings t;
  t.cert_file = "/nonexistent.crt";
  EXPECT_FALSE(ValidateTlsSettings(t, "strand.api.tls").ok());
  t.key_file = "/nonexistent.key";
  auto s = ValidateTlsSettings(t, "strand.api.tls");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("strand.api.tls"), std::string::npos);
  TlsSettings only_ca;
  only_ca.client_ca_file = "/x";
  EXPECT_FALSE(ValidateTlsSettings(only_ca, "k").ok());
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

// One mapping for every listener: the receivers' 501 and 504 hold for the API too, and a
// retryable refusal says when to retry.
TEST(StatusCodes, OneMappingForEveryListener) {
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kDataLoss), 500);
  EXPECT_EQ(GrpcCodeFor(absl::StatusCode::kUnavailable), 14);

  HttpResponse busy = StatusTextResponse(absl::UnavailableError("store closing"));
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.body, "store closing\n");
  ASSERT_EQ(busy.headers.size(), 1u);
  EXPECT_EQ(busy.headers[0].first, "Retry-After");
  HttpResponse lost = StatusTextResponse(absl::DataLossError("data unavailable: block x"));
  EXPECT_EQ(lost.status, 500);
  EXPECT_TRUE(lost.headers.empty());
}

}  // namespace
}  // namespace strand::http
