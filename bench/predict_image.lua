-- wrk: the FastAPI app's image request, POST /predict with a multipart "file" part holding
-- IMG (default cat.jpg), built once (specs/serving.md 9)
local f = assert(io.open(os.getenv("IMG") or "cat.jpg", "rb")); local img = f:read("*a"); f:close()
local b = "torchlessbench"
wrk.method = "POST"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. b
wrk.body = "--" .. b .. '\r\nContent-Disposition: form-data; name="file"; filename="cat.jpg"\r\n' ..
           "Content-Type: image/jpeg\r\n\r\n" .. img .. "\r\n--" .. b .. "--\r\n"
