-- wrk: the FastAPI app's request, POST /predict {"values": [10 floats]} (specs/serving.md 9)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"values": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]}'
