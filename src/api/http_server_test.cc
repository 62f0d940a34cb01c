#include "api/http_server.h"

#include <gtest/gtest.h>

#include <thread>

#include "api/http_test_client.h"

namespace strand::api {
namespace {

using strand::testing::HttpCall;

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(size_t max_body = 1 << 20) {
    HttpServerOptions o;
    o.address = "127.0.0.1:0";
    o.max_body_bytes = max_body;
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
