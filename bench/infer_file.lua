-- wrk: POST a request body made beforehand (BODY=file, read once). With HEADER_LEN=n the body is
-- a v2 binary-extension request (n bytes of JSON, then raw tensors), otherwise v2 JSON.
local f = assert(io.open(assert(os.getenv("BODY"), "set BODY=file"), "rb"))
local body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.body = body
local n = os.getenv("HEADER_LEN")
if n and n ~= "" then
  wrk.headers["Content-Type"] = "application/octet-stream"
  wrk.headers["Inference-Header-Content-Length"] = n
else
  wrk.headers["Content-Type"] = "application/json"
end
