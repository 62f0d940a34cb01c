// The authenticators alone: htpasswd hashes, bearer tokens and Basic credentials, files
// read again after they change, constant-time comparison, and tenant binding.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "auth/basic_authenticator.h"
#include "auth/bearer_token_authenticator.h"
#include "auth/htpasswd.h"
#include "auth/request_tenant.h"
#include "auth/secret_compare.h"

namespace strand::auth {
namespace {

// A published bcrypt test vector (crypt_blowfish, OpenBSD): "U*U" with cost 5.
constexpr char kBcryptUU[] = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
// "s3cret" as `htpasswd -B -C 5` and as {SHA} (`openssl dgst -sha1 -binary | base64`).
constexpr char kBcryptSecret[] = "$2y$05$abcdefghijklmnopqrstuuLK7U1u6pVRmL7L1BBM2aS35PSZnDXlK";
constexpr char kBcrypt2bSecret[] = "$2b$04$abcdefghijklmnopqrstuuLZYjhNQAOdpbzt4WxWlUHjv1wsyH5DG";
constexpr char kShaSecret[] = "{SHA}/vNB+F2HQ559kaLUZbmHHvZrXpg=";

using Headers = std::map<std::string, std::string>;

absl::StatusOr<Identity> Authenticate(const ServerAuthenticator& a, const Headers& headers) {
  return a.Authenticate([&](std::string_view name) -> std::string_view {
    auto it = headers.find(std::string(name));
    return it == headers.end() ? std::string_view() : std::string_view(it->second);
  });
}

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/auth-" + std::to_string(getpid()) + "-" + name;
}

// Replaces `path` by renaming a new file over it, as Kubernetes and cert-manager do, so the
// change is seen even within the file system's timestamp granularity.
void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream(path + ".new") << contents;
  std::filesystem::rename(path + ".new", path);
}

TEST(HtpasswdTest, ChecksBcryptShaAndPlainEntries) {
  auto h = Htpasswd::Parse(
      absl::StrCat("# users\n\nuu:", kBcryptUU, "\nann:", kBcryptSecret,
                   "\r\nbob:", kBcrypt2bSecret, "\ncid:", kShaSecret, "\ndee:plain pass\n"),
      "test");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->size(), 5u);
  EXPECT_TRUE(h->Verify("uu", "U*U"));
  EXPECT_FALSE(h->Verify("uu", "U*V"));
  for (const char* user : {"ann", "bob", "cid"}) {
    EXPECT_TRUE(h->Verify(user, "s3cret")) << user;
    EXPECT_FALSE(h->Verify(user, "s3cret ")) << user;
    EXPECT_FALSE(h->Verify(user, "")) << user;
  }
  EXPECT_TRUE(h->Verify("dee", "plain pass"));
  EXPECT_FALSE(h->Verify("dee", "plain"));
  EXPECT_FALSE(h->Verify("nobody", "s3cret"));
  EXPECT_FALSE(h->Verify("", ""));
}

TEST(HtpasswdTest, UnsupportedHashSchemesAreRefusedAtLoad) {
  for (const char* hash : {"$apr1$abc$V7uD6Y3Ey1b.T8QFySWI51", "$1$abc$xyz", "$6$salt$digest",
                           "{SSHA}abcdefgh", "{MD5}abc"}) {
    auto h = Htpasswd::Parse(absl::StrCat("ok:pw\nuser:", hash, "\n"), "users.htpasswd");
    ASSERT_FALSE(h.ok()) << hash;
    EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(h.status().message().find("users.htpasswd line 2: user \"user\": not supported"),
              std::string::npos)
        << h.status();
  }
  auto apr1 = Htpasswd::Parse("u:$apr1$abc$V7uD6Y3Ey1b.T8QFySWI51", "x");
  EXPECT_NE(apr1.status().message().find("$apr1$ (Apache MD5, htpasswd -m)"), std::string::npos)
      << apr1.status();
}

TEST(HtpasswdTest, MalformedLinesNameTheLine) {
  EXPECT_NE(Htpasswd::Parse("a:b\nno colon\n", "f").status().message().find("f line 2"),
            std::string::npos);
  EXPECT_FALSE(Htpasswd::Parse(":hash", "f").ok());
  EXPECT_FALSE(Htpasswd::Parse("u:", "f").ok());
  EXPECT_FALSE(Htpasswd::Parse("u:$2y$05$short", "f").ok());
  EXPECT_FALSE(Htpasswd::Parse("u:{SHA}not-base64!", "f").ok());
}

TEST(HtpasswdTest, MergeReplacesUsersOfTheSameName) {
  auto file = Htpasswd::Parse("ann:old\nbob:b\n", "file");
  auto inline_entries = Htpasswd::Parse("ann:new\n", "inline");
  ASSERT_TRUE(file.ok() && inline_entries.ok());
  file->Merge(*inline_entries);
  EXPECT_TRUE(file->Verify("ann", "new"));
  EXPECT_FALSE(file->Verify("ann", "old"));
  EXPECT_TRUE(file->Verify("bob", "b"));
}

TEST(SecretCompareTest, EveryPasswordAndHashComparisonIsConstantTime) {
  EXPECT_TRUE(SecretEquals("abc", "abc"));
  EXPECT_FALSE(SecretEquals("abc", "abd"));
  EXPECT_FALSE(SecretEquals("abc", "abcd"));
  EXPECT_FALSE(SecretEquals("", "a"));
  auto h = Htpasswd::Parse(absl::StrCat("p:pw\ns:", kShaSecret, "\nb:", kBcrypt2bSecret), "t");
  ASSERT_TRUE(h.ok());
  for (auto [user, password] : {std::pair{"p", "pw"}, std::pair{"p", "x"}, std::pair{"s", "x"},
                                std::pair{"b", "s3cret"}, std::pair{"b", "x"}}) {
    const uint64_t before = SecretComparisonsForTest();
    h->Verify(user, password);
    EXPECT_EQ(SecretComparisonsForTest(), before + 1) << user << " " << password;
  }
}

BearerTokenSettings Tokens(std::vector<std::string> tokens) {
  BearerTokenSettings s;
  s.tokens = std::move(tokens);
  return s;
}

TEST(BearerTokenTest, AcceptsOnlyAConfiguredToken) {
  FakeClock clock;
  auto a = BearerTokenAuthenticator::Create(Tokens({"t0k3n", "second"}), clock);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(Authenticate(**a, {{"authorization", "Bearer t0k3n"}}).ok());
  EXPECT_TRUE(Authenticate(**a, {{"authorization", "bearer second"}}).ok());
  for (const Headers& bad :
       {Headers{}, Headers{{"authorization", "Bearer wrong"}},
        Headers{{"authorization", "Bearer t0k3n "}}, Headers{{"authorization", "Basic t0k3n"}},
        Headers{{"authorization", "t0k3n"}}}) {
    auto r = Authenticate(**a, bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(r.status().message().find("t0k3n"), std::string::npos) << r.status();
  }
  EXPECT_EQ(Authenticate(**a, {}).status().message(), "missing Authorization header");
  EXPECT_EQ((*a)->Challenge(), "Bearer realm=\"strand\"");
}

TEST(BearerTokenTest, EveryTokenIsComparedInConstantTime) {
  FakeClock clock;
  auto a = BearerTokenAuthenticator::Create(Tokens({"one", "two", "three"}), clock);
  ASSERT_TRUE(a.ok());
  for (const char* presented : {"Bearer one", "Bearer nope"}) {
    const uint64_t before = SecretComparisonsForTest();
    (void)Authenticate(**a, {{"authorization", presented}});
    EXPECT_EQ(SecretComparisonsForTest(), before + 3) << presented;
  }
}

TEST(BearerTokenTest, CustomHeaderAndSchemeAndTheClientSide) {
  FakeClock clock;
  BearerTokenSettings s = Tokens({"k1", "k2"});
  s.header = "X-Api-Key";
  s.scheme = "";
  auto a = BearerTokenAuthenticator::Create(s, clock);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(Authenticate(**a, {{"x-api-key", "k2"}}).ok());
  EXPECT_FALSE(Authenticate(**a, {{"authorization", "k2"}}).ok());
  EXPECT_EQ((*a)->Headers(),
            (std::vector<std::pair<std::string, std::string>>{{"X-Api-Key", "k1"}}));
  auto b = BearerTokenAuthenticator::Create(Tokens({"abc"}), clock);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->Headers(),
            (std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer abc"}}));
}

TEST(BearerTokenTest, BoundTokensCarryTheirTenant) {
  FakeClock clock;
  BearerTokenSettings s = Tokens({"acme-token"});
  s.tenant = "acme";
  auto a = BearerTokenAuthenticator::Create(s, clock);
  ASSERT_TRUE(a.ok());
  auto id = Authenticate(**a, {{"authorization", "Bearer acme-token"}});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->tenant, "acme");
}

TEST(BearerTokenTest, TokenFileIsReadAgainWhenItChanges) {
  FakeClock clock;
  const std::string path = TempPath("token");
  WriteFile(path, "first\n\n  also-first  \n");
  BearerTokenSettings s;
  s.filename = path;
  auto a = BearerTokenAuthenticator::Create(s, clock, std::chrono::seconds(1));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(Authenticate(**a, {{"authorization", "Bearer first"}}).ok());
  EXPECT_TRUE(Authenticate(**a, {{"authorization", "Bearer also-first"}}).ok());
  EXPECT_EQ((*a)->Headers().at(0).second, "Bearer first");

  WriteFile(path, "rotated\n");
  // Not looked at again before the check interval has passed.
  EXPECT_TRUE(Authenticate(**a, {{"authorization", "Bearer first"}}).ok());
  clock.Advance(std::chrono::seconds(1));
  EXPECT_FALSE(Authenticate(**a, {{"authorization", "Bearer first"}}).ok());
  EXPECT_TRUE(Authenticate(**a, {{"authorization", "Bearer rotated"}}).ok());
  EXPECT_EQ((*a)->Headers().at(0).second, "Bearer rotated");

  // A file that goes away keeps the last tokens.
  std::filesystem::remove(path);
  clock.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(Authenticate(**a, {{"authorization", "Bearer rotated"}}).ok());
}

TEST(BearerTokenTest, MissingTokenFileFailsCreate) {
  FakeClock clock;
  BearerTokenSettings s;
  s.filename = TempPath("no-such-token");
  auto a = BearerTokenAuthenticator::Create(s, clock);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(a.status().message().find("no-such-token"), std::string::npos);
}

std::string BasicHeader(const std::string& user, const std::string& password) {
  return BasicClientAuthenticator(user, password).Headers().at(0).second;
}

TEST(BasicAuthTest, ClientSideSendsBase64UserAndPassword) {
  EXPECT_EQ(
      BasicClientAuthenticator("user", "pass").Headers(),
      (std::vector<std::pair<std::string, std::string>>{{"Authorization", "Basic dXNlcjpwYXNz"}}));
}

TEST(BasicAuthTest, AcceptsOnlyHtpasswdUsers) {
  FakeClock clock;
  BasicAuthSettings s;
  s.htpasswd_inline = absl::StrCat("ann:", kBcryptSecret, "\nbob:", kShaSecret, "\n");
  s.tenants = {{"ann", "acme"}};
  auto a = BasicAuthenticator::Create(s, clock);
  ASSERT_TRUE(a.ok()) << a.status();
  auto ann = Authenticate(**a, {{"authorization", BasicHeader("ann", "s3cret")}});
  ASSERT_TRUE(ann.ok()) << ann.status();
  EXPECT_EQ(ann->subject, "ann");
  EXPECT_EQ(ann->tenant, "acme");
  // Remembered: the second check of the same credentials does not run bcrypt again.
  const uint64_t before = SecretComparisonsForTest();
  EXPECT_TRUE(Authenticate(**a, {{"authorization", BasicHeader("ann", "s3cret")}}).ok());
  EXPECT_EQ(SecretComparisonsForTest(), before);
  auto bob =
      Authenticate(**a, {{"authorization", "basic " + BasicHeader("bob", "s3cret").substr(6)}});
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(bob->tenant, "");
  for (const Headers& bad :
       {Headers{}, Headers{{"authorization", BasicHeader("ann", "wrong")}},
        Headers{{"authorization", BasicHeader("eve", "s3cret")}},
        Headers{{"authorization", "Basic !!!"}}, Headers{{"authorization", "Basic YW5u"}},
        Headers{{"authorization", "Bearer s3cret"}}}) {
    EXPECT_EQ(Authenticate(**a, bad).status().code(), absl::StatusCode::kUnauthenticated);
  }
  EXPECT_EQ((*a)->Challenge(), "Basic realm=\"strand\", charset=\"UTF-8\"");
}

TEST(BasicAuthTest, UnsupportedHashInlineFailsCreate) {
  FakeClock clock;
  BasicAuthSettings s;
  s.htpasswd_inline = "ann:$apr1$abc$V7uD6Y3Ey1b.T8QFySWI51\n";
  auto a = BasicAuthenticator::Create(s, clock);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("htpasswd::inline line 1: user \"ann\": not supported"),
            std::string::npos)
      << a.status();
}

TEST(BasicAuthTest, FileIsReadAgainAndInlineEntriesWin) {
  FakeClock clock;
  const std::string path = TempPath("htpasswd");
  WriteFile(path, "ann:from-file\ncid:c1\n");
  BasicAuthSettings s;
  s.htpasswd_file = path;
  s.htpasswd_inline = "ann:inline\n";
  auto a = BasicAuthenticator::Create(s, clock);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(Authenticate(**a, {{"authorization", BasicHeader("ann", "inline")}}).ok());
  EXPECT_FALSE(Authenticate(**a, {{"authorization", BasicHeader("ann", "from-file")}}).ok());
  EXPECT_TRUE(Authenticate(**a, {{"authorization", BasicHeader("cid", "c1")}}).ok());
  WriteFile(path, "cid:c2\n");
  clock.Advance(std::chrono::seconds(1));
  // The remembered credential is forgotten with the entries that proved it.
  EXPECT_FALSE(Authenticate(**a, {{"authorization", BasicHeader("cid", "c1")}}).ok());
  EXPECT_TRUE(Authenticate(**a, {{"authorization", BasicHeader("cid", "c2")}}).ok());
  EXPECT_TRUE(Authenticate(**a, {{"authorization", BasicHeader("ann", "inline")}}).ok());
  // A change that does not parse keeps the previous entries.
  WriteFile(path, "cid:$apr1$abc$V7uD6Y3Ey1b.T8QFySWI51\n");
  clock.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(Authenticate(**a, {{"authorization", BasicHeader("cid", "c2")}}).ok());
  std::filesystem::remove(path);
}

TEST(RequestTenantTest, BoundCredentialsDecideTheTenant) {
  const Identity bound{"ann", "acme"};
  const Identity unbound{"bob", ""};
  // Without multi-tenancy there is one tenant and X-Scope-OrgID is ignored.
  EXPECT_EQ(*RequestTenant(false, &bound, "other"), "single-tenant");
  EXPECT_EQ(*RequestTenant(false, nullptr, ""), "single-tenant");
  EXPECT_EQ(*RequestTenant(true, &bound, ""), "acme");
  EXPECT_EQ(*RequestTenant(true, &bound, "acme"), "acme");
  auto other = RequestTenant(true, &bound, "beta");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(other.status().message().find("\"beta\""), std::string::npos);
  EXPECT_EQ(*RequestTenant(true, &unbound, "beta"), "beta");
  EXPECT_EQ(*RequestTenant(true, nullptr, "beta"), "beta");
  EXPECT_EQ(RequestTenant(true, &unbound, "").status().message(), "no org id");
  EXPECT_EQ(RequestTenant(true, nullptr, "..").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strand::auth
