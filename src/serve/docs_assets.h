// src/serve/docs_assets.h — the files of the /docs page (src/serve/docs: index.html, docs.js,
// docs.css, favicon.png), compiled into the binary by cmake/embed.cmake (specs/serving.md 6.8). The server sends
// them with `Content-Security-Policy: default-src 'self'`; the page renders GET /openapi.json.
#pragma once

#include <span>
#include <string_view>

namespace torchless::serve {

struct DocsAsset {
  std::string_view path;          // request path: "/docs", "/docs/assets/docs.js", ...
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view body;
};

// The asset served at a request path: "/docs" and "/docs/" give the page; nullptr otherwise.
const DocsAsset* find_docs_asset(std::string_view path);

// Every asset, the page first (the dump tool and the tests list them).
std::span<const DocsAsset> docs_assets();

}  // namespace torchless::serve
