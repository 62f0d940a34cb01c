#include "http/tls_context.h"

#include <openssl/ssl.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/file_stamp.h"
#include "common/logging.h"

namespace strand::http {

namespace ssl = boost::asio::ssl;

absl::Status ValidateTlsSettings(const TlsSettings& tls, const std::string& where) {
  if (!tls.enabled()) {
    if (!tls.client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".client_ca_file needs cert_file and key_file"));
    }
    return absl::OkStatus();
  }
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": cert_file and key_file go together"));
  }
  if (tls.min_version != "1.2" && tls.min_version != "1.3") {
    return absl::InvalidArgumentError(absl::StrCat(where, ".min_version \"", tls.min_version,
                                                   "\": want \"1.2\" or \"1.3\""));
  }
  if (tls.reload_interval.count() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".reload_interval must be positive"));
  }
  for (const std::string* file : {&tls.cert_file, &tls.key_file, &tls.client_ca_file}) {
    if (file->empty()) continue;
    std::ifstream in(*file);
    if (!in) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": cannot read ", *file));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<ssl::context>> MakeServerTlsContext(const TlsSettings& settings) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  const int min = settings.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx->native_handle(), min);
  boost::system::error_code ec;
  auto fail = [&](const char* what, const std::string& file) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS: cannot load the ", what, " ", file, ": ", ec.message()));
  };
  ctx->use_certificate_chain_file(settings.cert_file, ec);
  if (ec) return fail("certificate", settings.cert_file);
  ctx->use_private_key_file(settings.key_file, ssl::context::pem, ec);
  if (ec) return fail("private key", settings.key_file);
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("TLS: the private key ", settings.key_file,
                                                   " does not match ", settings.cert_file));
  }
  if (!settings.client_ca_file.empty()) {
    ctx->load_verify_file(settings.client_ca_file, ec);
    if (ec) return fail("client CA", settings.client_ca_file);
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

TlsContextSource::TlsContextSource(TlsSettings settings, const Clock* clock)
    : settings_(std::move(settings)), clock_(clock != nullptr ? clock : Clock::Real()) {}

absl::StatusOr<std::unique_ptr<TlsContextSource>> TlsContextSource::Create(TlsSettings settings,
                                                                           const Clock* clock) {
  std::unique_ptr<TlsContextSource> source(new TlsContextSource(std::move(settings), clock));
  auto ctx = MakeServerTlsContext(source->settings_);
  if (!ctx.ok()) return ctx.status();
  absl::MutexLock lock(&source->mu_);
  source->context_ = *std::move(ctx);
  source->stamp_ = source->Stamp();
  source->next_check_nanos_ =
      source->clock_->MonotonicNanos() +
      std::chrono::duration_cast<std::chrono::nanoseconds>(source->settings_.reload_interval)
          .count();
  return source;
}

std::string TlsContextSource::Stamp() const {
  std::string stamp;
  for (const std::string* file :
       {&settings_.cert_file, &settings_.key_file, &settings_.client_ca_file}) {
    absl::StrAppend(&stamp, FileStamp(*file), ";");
  }
  return stamp;
}

std::shared_ptr<ssl::context> TlsContextSource::Current() {
  absl::MutexLock lock(&mu_);
  const int64_t now = clock_->MonotonicNanos();
  if (now < next_check_nanos_) return context_;
  next_check_nanos_ =
      now + std::chrono::duration_cast<std::chrono::nanoseconds>(settings_.reload_interval).count();
  std::string stamp = Stamp();
  if (stamp == stamp_) return context_;
  auto ctx = MakeServerTlsContext(settings_);
  if (!ctx.ok()) {
    LOG_WARN("TLS: the certificate files changed but do not load yet, keeping the previous "
             "ones: {}",
             std::string(ctx.status().message()));
    return context_;
  }
  LOG_INFO("TLS: reloaded {} after it changed", settings_.cert_file);
  context_ = *std::move(ctx);
  stamp_ = std::move(stamp);
  ++reloads_;
  return context_;
}

int TlsContextSource::reloads() const {
  absl::MutexLock lock(&mu_);
  return reloads_;
}

}  // namespace strand::http
