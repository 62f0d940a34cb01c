// KubeApiClient against a fake API server on loopback (plain HTTP: TLS is libcurl's, and
// the webhook server's own TLS is tested in webhook_server_test.cc).
#include "webhook/kube_api_client.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "absl/synchronization/mutex.h"
#include "http/http_server.h"

namespace strand::webhook {
namespace {

class KubeApiClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    token_file_ = ::testing::TempDir() + "/kube_token_" + std::to_string(std::random_device{}());
    std::ofstream(token_file_) << "secret-token\n";
    http::HttpServerOptions o;
    o.address = "127.0.0.1:0";
    o.threads = 1;
    auto server = http::HttpServer::Start(o, [this](http::HttpRequest&& req, http::Responder r) {
      {
        absl::MutexLock lock(&mu_);
        last_ = req;
      }
      http::HttpResponse resp;
      resp.content_type = "application/json";
      if (req.path == "/api/v1/namespaces/shop") {
        resp.body = R"({"kind":"Namespace","metadata":{"name":"shop"}})";
      } else if (req.path == "/forbidden") {
        resp.status = 403;
        resp.body = R"({"kind":"Status","reason":"Forbidden"})";
      } else if (req.path == "/conflict") {
        resp.status = 409;
      } else if (req.path == "/broken") {
        resp.status = 500;
      } else {
        resp.status = 404;
        resp.body = R"({"kind":"Status","reason":"NotFound"})";
      }
      r(std::move(resp));
    });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void TearDown() override {
    server_->Stop();
    std::remove(token_file_.c_str());
  }

  KubeApiClient Client() {
    KubeApiOptions o;
    o.server = "http://127.0.0.1:" + std::to_string(server_->port());
    o.token_file = token_file_;
    o.ca_file = "/nonexistent/ca.crt";
    return KubeApiClient(o);
  }
  http::HttpRequest Last() {
    absl::MutexLock lock(&mu_);
    return last_;
  }

  std::string token_file_;
  std::unique_ptr<http::HttpServer> server_;
  absl::Mutex mu_;
  http::HttpRequest last_;
};

TEST_F(KubeApiClientTest, GetSendsTheServiceAccountTokenAndReturnsTheBody) {
  auto body = Client().Get("/api/v1/namespaces/shop");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, R"({"kind":"Namespace","metadata":{"name":"shop"}})");
  const http::HttpRequest req = Last();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.Header("authorization"), "Bearer secret-token");
  EXPECT_EQ(req.Header("accept"), "application/json");
}

TEST_F(KubeApiClientTest, StatusCodesMapToErrors) {
  KubeApiClient c = Client();
  EXPECT_TRUE(absl::IsNotFound(c.Get("/api/v1/namespaces/nope").status()));
  EXPECT_TRUE(absl::IsPermissionDenied(c.Get("/forbidden").status()));
  EXPECT_TRUE(absl::IsAlreadyExists(c.Request("POST", "/conflict", "{}").status()));
  EXPECT_TRUE(absl::IsInternal(c.Get("/broken").status()));
}

TEST_F(KubeApiClientTest, RequestsCarryTheirBodyAndContentType) {
  auto r = Client().Request("PATCH", "/api/v1/namespaces/shop", R"([{"op":"add"}])",
                            "application/json-patch+json");
  ASSERT_TRUE(r.ok()) << r.status();
  const http::HttpRequest req = Last();
  EXPECT_EQ(req.method, "PATCH");
  EXPECT_EQ(req.body, R"([{"op":"add"}])");
  EXPECT_EQ(req.Header("content-type"), "application/json-patch+json");
}

TEST_F(KubeApiClientTest, AnUnreachableServerIsUnavailable) {
  const int port = server_->port();
  server_->Stop();
  KubeApiOptions o;
  o.server = "http://127.0.0.1:" + std::to_string(port);
  o.token_file = token_file_;
  o.timeout_ms = 2000;
  EXPECT_TRUE(absl::IsUnavailable(KubeApiClient(o).Get("/api/v1/namespaces/shop").status()));
}

}  // namespace
}  // namespace strand::webhook
