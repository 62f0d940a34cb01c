// The webhook over TLS: a self-signed certificate from MakeSelfSignedCertificate, the
// server on port 0, and libcurl verifying the server against that certificate.
#include "webhook/webhook_server.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "http/self_signed_cert.h"
#include "webhook/static_cluster_source.h"

namespace strand::webhook {
namespace {

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct Reply {
  long status = 0;
  std::string body;
};

Reply Call(const std::string& url, const std::string& ca_file, const std::string& body = "") {
  Reply r;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  if (!body.empty()) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  CURLcode rc = curl_easy_perform(c);
  EXPECT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_cleanup(c);
  return r;
}

class WebhookServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("strand-webhook-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    auto pair = http::MakeSelfSignedCertificate({"localhost"}, 1);
    ASSERT_TRUE(pair.ok()) << pair.status();
    std::ofstream(dir_ / "tls.crt") << pair->cert_pem;
    std::ofstream(dir_ / "tls.key") << pair->key_pem;
    WebhookServerOptions o;
    o.address = "127.0.0.1:0";
    o.cert_file = (dir_ / "tls.crt").string();
    o.key_file = (dir_ / "tls.key").string();
    auto s = WebhookServer::Start(o, mutator_);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    base_ = "https://localhost:" + std::to_string(server_->port());
  }
  void TearDown() override {
    if (server_) server_->Stop();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  StaticClusterSource cluster_;
  PodMutator mutator_{cluster_};
  std::unique_ptr<WebhookServer> server_;
  std::string base_;
};

TEST_F(WebhookServerTest, ServesHealthzAndReviewsOverVerifiedTls) {
  const std::string ca = (dir_ / "tls.crt").string();
  Reply health = Call(base_ + "/healthz", ca);
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  Reply review = Call(base_ + "/mutate-v1-pod", ca,
                      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",
                          "request":{"uid":"abc","kind":{"kind":"Pod"},"operation":"CREATE",
                          "namespace":"x","object":{"metadata":{"name":"p"},
                          "spec":{"containers":[{"name":"app","image":"node"}]}}}})");
  EXPECT_EQ(review.status, 200);
  EXPECT_NE(review.body.find(R"("uid":"abc","allowed":true)"), std::string::npos) << review.body;
  EXPECT_EQ(Call(base_ + "/mutate-v1-pod", ca, "{}").status, 400);
  EXPECT_EQ(Call(base_ + "/other", ca).status, 404);
}

TEST_F(WebhookServerTest, UnreadableCertificateIsAnError) {
  WebhookServerOptions o;
  o.address = "127.0.0.1:0";
  o.cert_file = (dir_ / "missing.crt").string();
  o.key_file = (dir_ / "tls.key").string();
  EXPECT_FALSE(WebhookServer::Start(o, mutator_).ok());
}

}  // namespace
}  // namespace strand::webhook
