// The web UI's files (web/dist, built by `make` with npm), embedded in the binary at build
// time by cmake/embed_assets.cmake, so the UI works with no files beside the binary and no
// internet access. Empty when the UI was not built.
#pragma once

#include <cstddef>
#include <string_view>

namespace strand::api {

struct WebAsset {
  const char* path;  // "/index.html", "/assets/index-3f2a.js"
  const unsigned char* data;
  size_t size;
};

extern const WebAsset* const kWebAssets;
extern const size_t kWebAssetCount;

// The asset at `path`, or null.
const WebAsset* FindWebAsset(std::string_view path);
// The Content-Type for a file name, by its extension.
std::string_view ContentTypeOf(std::string_view path);

}  // namespace strand::api
