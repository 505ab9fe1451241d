-- wrk: the v2 (Open Inference Protocol) JSON equivalent of predict_mlp.lua, for
-- POST /v2/models/mlp/infer (specs/serving.md 9)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"inputs":[{"name":"input","shape":[1,10],"datatype":"FP32",' ..
           '"data":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0]}]}'
