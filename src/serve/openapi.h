// src/serve/openapi.h — the OpenAPI 3.0.3 document served at GET /openapi.json (specs/serving.md
// 6.8), built from the route table and the loaded models at start-up and on each reload. The /docs
// page (src/serve/docs, docs_assets.h) renders it and sends its examples.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "serve/model_desc.h"

namespace torchless::serve {

// Compact JSON of the document: POST /predict (only when a model serves it), the OIP REST routes
// with `{name}` an enum of the model names, /metrics, /openapi.json and /docs. Each model gets an
// example inference request and response (zeros, batch 1, at most 64 data elements shown: a bigger
// tensor's data is cut to 64 and the example's summary says so; an image model's default example
// sends a 1x1 PNG as its raw-image input instead) and its metadata as the metadata example.
// `server_version` is info.version and the GET /v2 example's version.
std::string openapi_document(const std::vector<ModelDesc>& models, std::string_view server_version);

}  // namespace torchless::serve
