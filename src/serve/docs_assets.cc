// The embedded /docs files: the byte arrays come from the generated docs_assets_data.cc.
#include "serve/docs_assets.h"

#include <cstddef>

namespace torchless::serve {
namespace docs_data {  // defined in ${CMAKE_BINARY_DIR}/generated/docs_assets_data.cc
extern const unsigned char index_html[];
extern const std::size_t index_html_size;
extern const unsigned char docs_js[];
extern const std::size_t docs_js_size;
extern const unsigned char docs_css[];
extern const std::size_t docs_css_size;
extern const unsigned char favicon_png[];
extern const std::size_t favicon_png_size;
}  // namespace docs_data

namespace {
std::string_view bytes(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}
}  // namespace

std::span<const DocsAsset> docs_assets() {
  // Built on first use, so the arrays of the other translation unit are initialised by then.
  static const DocsAsset kAssets[] = {
      {"/docs", "text/html; charset=utf-8", bytes(docs_data::index_html, docs_data::index_html_size)},
      {"/docs/assets/docs.js", "text/javascript; charset=utf-8", bytes(docs_data::docs_js, docs_data::docs_js_size)},
      {"/docs/assets/docs.css", "text/css; charset=utf-8", bytes(docs_data::docs_css, docs_data::docs_css_size)},
      {"/docs/assets/favicon.png", "image/png", bytes(docs_data::favicon_png, docs_data::favicon_png_size)},
  };
  return kAssets;
}

const DocsAsset* find_docs_asset(std::string_view path) {
  if (path == "/docs/") path = "/docs";
  for (const DocsAsset& a : docs_assets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

}  // namespace torchless::serve
