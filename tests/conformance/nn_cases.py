# Extra conformance cases for the NN-group ops, on paths libonnx-testdata does not cover (LpPool,
# 3-D MaxPool with ceil_mode/dilations/column-major Indices, SAME_LOWER grouped dilated Conv,
# grouped ConvTranspose, Einsum ellipsis broadcast, per-axis quantization, ...). Expected
# outputs come from brute-force numpy references. Writes cases in libonnx-testdata layout:
#   python3 tests/conformance/nn_cases.py OUT_DIR
#   build/bin/torchless-conformance --data OUT_DIR --suites node --all   (scripts/test does both)
import os, sys, itertools, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
OUT = os.path.join(sys.argv[1], 'node')
rng = np.random.default_rng(0)
T = {np.float32: TensorProto.FLOAT, np.float64: TensorProto.DOUBLE, np.int32: TensorProto.INT32,
     np.int64: TensorProto.INT64, np.int8: TensorProto.INT8, np.uint8: TensorProto.UINT8}

def case(name, op, inputs, outputs, opset, **attrs):
    d = os.path.join(OUT, name); os.makedirs(os.path.join(d, 'test_data_set_0'), exist_ok=True)
    ins = [helper.make_tensor_value_info(f'x{i}', T[a.dtype.type], a.shape) for i, a in enumerate(inputs)]
    outs = [helper.make_tensor_value_info(f'y{i}', T[a.dtype.type], a.shape) for i, a in enumerate(outputs)]
    node = helper.make_node(op, [f'x{i}' for i in range(len(inputs))], [f'y{i}' for i in range(len(outputs))], **attrs)
    m = helper.make_model(helper.make_graph([node], name, ins, outs), opset_imports=[helper.make_opsetid('', opset)])
    m.ir_version = 7
    onnx.save(m, os.path.join(d, 'model.onnx'))
    for i, a in enumerate(inputs):
        open(os.path.join(d, 'test_data_set_0', f'input_{i}.pb'), 'wb').write(numpy_helper.from_array(a, f'x{i}').SerializeToString())
    for i, a in enumerate(outputs):
        open(os.path.join(d, 'test_data_set_0', f'output_{i}.pb'), 'wb').write(numpy_helper.from_array(a, f'y{i}').SerializeToString())

def windows(in_sp, k, s, d, pb, pe, ceil=False):
    out = []
    for i in range(len(in_sp)):
        span = in_sp[i] + pb[i] + pe[i] - ((k[i]-1)*d[i]+1)
        out.append((-(-span // s[i]) if ceil else span // s[i]) + 1)
    return out

def pool(x, k, s, d, pb, pe, f, ceil=False):
    N, C = x.shape[:2]; sp = x.shape[2:]; out = windows(sp, k, s, d, pb, pe, ceil)
    y = np.zeros((N, C, *out), x.dtype); idx = np.zeros((N, C, *out), np.int64)
    for n, c in itertools.product(range(N), range(C)):
        for o in itertools.product(*[range(v) for v in out]):
            vals, poss, padded = [], [], 0
            for t in itertools.product(*[range(v) for v in k]):
                p = [o[i]*s[i] - pb[i] + t[i]*d[i] for i in range(len(k))]
                if all(-pb[i] <= p[i] < sp[i] + pe[i] for i in range(len(k))): padded += 1
                if all(0 <= p[i] < sp[i] for i in range(len(k))): vals.append(x[(n, c, *p)]); poss.append(p)
            y[(n, c, *o)], idx[(n, c, *o)] = f(np.array(vals, np.float64), poss, padded)
    return y, idx

def conv(x, w, b, s, d, pb, pe, g):
    N, C = x.shape[:2]; M = w.shape[0]; k = w.shape[2:]; sp = x.shape[2:]
    out = windows(sp, k, s, d, pb, pe)
    y = np.zeros((N, M, *out)); cg = C // g; mg = M // g
    for n, m in itertools.product(range(N), range(M)):
        for o in itertools.product(*[range(v) for v in out]):
            acc = 0.0
            for c in range(cg):
                for t in itertools.product(*[range(v) for v in k]):
                    p = [o[i]*s[i] - pb[i] + t[i]*d[i] for i in range(len(k))]
                    if all(0 <= p[i] < sp[i] for i in range(len(k))):
                        acc += float(x[(n, (m // mg)*cg + c, *p)]) * float(w[(m, c, *t)])
            y[(n, m, *o)] = acc + (b[m] if b is not None else 0)
    return y.astype(x.dtype)

f32 = lambda *s: rng.standard_normal(s).astype(np.float32)

# LpPool / GlobalLpPool
x = f32(2, 3, 5, 6)
y, _ = pool(x, [3, 2], [2, 1], [1, 1], [1, 0], [1, 1], lambda v, p, n: ((np.abs(v)**3).sum()**(1/3), 0))
case('test_x_lppool_p3_pads', 'LpPool', [x], [y.astype(np.float32)], 11, kernel_shape=[3, 2], strides=[2, 1], pads=[1, 0, 1, 1], p=3)
y, _ = pool(x, [2, 2], [1, 1], [1, 1], [0, 0], [0, 0], lambda v, p, n: (np.sqrt((v**2).sum()), 0))
case('test_x_lppool_v1_float_p', 'LpPool', [x], [y.astype(np.float32)], 1, kernel_shape=[2, 2], p=2.0)
case('test_x_globallppool', 'GlobalLpPool', [x], [np.sqrt((x.astype(np.float64)**2).sum(axis=(2, 3), keepdims=True)).astype(np.float32)], 2)
# MaxPool 3-D ceil_mode, dilations, Indices with storage_order=1
x = f32(1, 2, 5, 4, 6)
def mx(v, poss, n, sp=x.shape[2:]):
    j = int(np.argmax(v)); p = poss[j]
    return v[j], p[0] + p[1]*sp[0] + p[2]*sp[0]*sp[1]
y, idx = pool(x, [2, 2, 3], [2, 1, 2], [1, 2, 1], [0, 1, 1], [0, 0, 1], mx, ceil=True)
idx += (np.arange(2) * x[0, 0].size).reshape(1, 2, 1, 1, 1)
case('test_x_maxpool_3d_ceil_dil_colmajor', 'MaxPool', [x], [y, idx], 12, kernel_shape=[2, 2, 3], strides=[2, 1, 2],
     dilations=[1, 2, 1], pads=[0, 1, 1, 0, 0, 1], ceil_mode=1, storage_order=1)
xi = rng.integers(-128, 127, (1, 2, 5, 5)).astype(np.int8)
y, _ = pool(xi, [3, 3], [2, 2], [1, 1], [1, 1], [1, 1], lambda v, p, n: (v.max(), 0))
case('test_x_maxpool_int8_pads', 'MaxPool', [xi], [y.astype(np.int8)], 12, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
# AveragePool count_include_pad with SAME_LOWER and ceil
x = f32(2, 2, 7, 5)
y, _ = pool(x, [3, 2], [2, 2], [1, 1], [1, 1], [1, 0], lambda v, p, n: (v.sum() / n, 0))
case('test_x_avgpool_same_lower_incl_pad', 'AveragePool', [x], [y.astype(np.float32)], 11, kernel_shape=[3, 2], strides=[2, 2],
     auto_pad='SAME_LOWER', count_include_pad=1)
y, _ = pool(x, [3, 3], [3, 2], [1, 1], [1, 0], [0, 1], lambda v, p, n: (v.mean(), 0), ceil=True)
case('test_x_avgpool_ceil_pads', 'AveragePool', [x], [y.astype(np.float32)], 11, kernel_shape=[3, 3], strides=[3, 2],
     pads=[1, 0, 0, 1], ceil_mode=1)
# Conv: SAME_LOWER, dilations, groups, 1-D; float64
x = f32(2, 4, 9, 7); w = f32(6, 2, 3, 2); b = f32(6)
# SAME_LOWER: out = ceil(in/s); total = (out-1)*s + ek - in
s, d = [2, 3], [2, 1]
pads = []
for i in range(2):
    o = -(-x.shape[2+i] // s[i]); ek = (w.shape[2+i]-1)*d[i]+1; tot = max((o-1)*s[i] + ek - x.shape[2+i], 0); pads.append((tot - tot//2, tot//2))
case('test_x_conv_same_lower_group_dil', 'Conv', [x, w, b], [conv(x, w, b, s, d, [p[0] for p in pads], [p[1] for p in pads], 2)], 11,
     auto_pad='SAME_LOWER', strides=s, dilations=d, group=2)
xd = rng.standard_normal((1, 3, 10)); wd = rng.standard_normal((3, 1, 4))
case('test_x_conv_1d_depthwise_double', 'Conv', [xd, wd], [conv(xd, wd, None, [3], [1], [2], [1], 3)], 11, strides=[3], pads=[2, 1], group=3)
# ConvTranspose: groups, dilations, pads, output_padding, bias
def convT(x, w, b, s, d, pb, op, out, g):
    N, C = x.shape[:2]; cg = C // g; mg = w.shape[1]; M = mg * g; k = w.shape[2:]
    y = np.zeros((N, M, *out))
    for n, c in itertools.product(range(N), range(C)):
        for i in itertools.product(*[range(v) for v in x.shape[2:]]):
            for t in itertools.product(*[range(v) for v in k]):
                o = [i[j]*s[j] + t[j]*d[j] - pb[j] for j in range(len(k))]
                if all(0 <= o[j] < out[j] for j in range(len(k))):
                    for m in range(mg): y[(n, (c // cg)*mg + m, *o)] += x[(n, c, *i)] * w[(c, m, *t)]
    if b is not None: y += b.reshape(1, M, *[1]*len(k))
    return y.astype(x.dtype)
x = f32(1, 4, 3, 4); w = f32(4, 3, 3, 2); b = f32(6)
s, d, pb, pe, op = [2, 3], [2, 1], [1, 0], [2, 1], [1, 2]
out = [s[j]*(x.shape[2+j]-1) + op[j] + (w.shape[2+j]-1)*d[j] + 1 - pb[j] - pe[j] for j in range(2)]
case('test_x_convtranspose_group_dil_pads', 'ConvTranspose', [x, w, b], [convT(x, w, b, s, d, pb, op, out, 2)], 11,
     strides=s, dilations=d, pads=pb + pe, output_padding=op, group=2)
# Softmax-11 coerced at axis 1 of a 3-D input; Hardmax-13 axis 0; LogSoftmax-1 default axis
x = f32(2, 3, 4)
r = x.reshape(2, 12); e = np.exp(r - r.max(1, keepdims=True))
case('test_x_softmax_v11_coerce', 'Softmax', [x], [(e / e.sum(1, keepdims=True)).reshape(2, 3, 4)], 11, axis=1)
hm = (x == x.max(0, keepdims=True)).astype(np.float32)
case('test_x_hardmax_v13_axis0', 'Hardmax', [x], [hm], 13, axis=0)
# Einsum: ellipsis broadcast, implicit output, trace
a = f32(2, 1, 3, 4); bb = f32(5, 4, 2)
case('test_x_einsum_ellipsis_bcast', 'Einsum', [a, bb], [np.einsum('...ij,...jk->...ik', a, bb)], 12, equation='...ij,...jk->...ik')
a = f32(3, 4); bb = f32(4, 5)
case('test_x_einsum_implicit', 'Einsum', [a, bb], [np.einsum('ij,jk', a, bb)], 12, equation='ij,jk')
a = f32(4, 4)
case('test_x_einsum_trace', 'Einsum', [a], [np.array(np.einsum('ii', a), np.float32)], 12, equation='ii')
ai = rng.integers(-5, 5, (2, 3)).astype(np.int64)
case('test_x_einsum_int64_transpose_sum', 'Einsum', [ai], [np.einsum('ij->j', ai)], 12, equation='ij->j')
# Gemm int32 and old broadcast form; MatMul 1-D x 3-D
a = rng.integers(-9, 9, (3, 4)).astype(np.int32); bb = rng.integers(-9, 9, (5, 4)).astype(np.int32); c = rng.integers(-9, 9, (5,)).astype(np.int32)
case('test_x_gemm_int32_transB', 'Gemm', [a, bb, c], [a @ bb.T + c], 13, transB=1)
a = f32(4, 3); bb = f32(4, 5); c = f32(1)
case('test_x_gemm_v6_broadcast', 'Gemm', [a, bb, c], [(0.5 * a.T @ bb + 2 * c).astype(np.float32)], 6, transA=1, alpha=0.5, beta=2.0, broadcast=1)
a = f32(4); bb = f32(2, 4, 3)
case('test_x_matmul_1d_3d', 'MatMul', [a, bb], [np.matmul(a, bb)], 13)
a = f32(2, 1, 3, 4); bb = f32(4)
case('test_x_matmul_4d_1d', 'MatMul', [a, bb], [np.matmul(a, bb)], 13)
# Reduce: ReduceSum-13 noop, ReduceMax int8, ReduceLogSumExp large, ReduceMean keepdims=0 on 3 axes, ReduceSum-11 attr
x = f32(2, 3, 4)
case('test_x_reducesum_noop', 'ReduceSum', [x, np.array([], np.int64)], [x], 13, noop_with_empty_axes=1)
xi = rng.integers(-128, 127, (3, 4)).astype(np.int8)
case('test_x_reducemax_int8', 'ReduceMax', [xi], [xi.max(axis=1, keepdims=True)], 13, axes=[-1])
xl = (f32(3, 4) * 100).astype(np.float64)
case('test_x_reducelogsumexp_large', 'ReduceLogSumExp', [xl], [np.log(np.exp(xl - xl.max(0)).sum(0)) + xl.max(0)], 13, axes=[0], keepdims=0)
x4 = f32(2, 3, 4, 5)
case('test_x_reducemean_3axes', 'ReduceMean', [x4], [x4.mean(axis=(0, 1, 3))], 11, axes=[0, 1, -1], keepdims=0)
case('test_x_reducesum_v11', 'ReduceSum', [x4], [x4.sum(axis=(2,), keepdims=True)], 11, axes=[2])
# ArgMin select_last_index on ties
xt = np.array([[1, 0, 0, 2], [3, 3, 1, 1]], np.int32)
case('test_x_argmin_last', 'ArgMin', [xt], [np.array([2, 3], np.int64)], 13, axis=1, keepdims=0, select_last_index=1)
# QuantizeLinear per-axis int8, DequantizeLinear per-axis
x = f32(2, 3, 4) * 10; sc = np.array([0.5, 0.25, 2.0], np.float32); zp = np.array([-3, 0, 7], np.int8)
q = np.clip(np.rint(x / sc.reshape(1, 3, 1)) + zp.reshape(1, 3, 1), -128, 127).astype(np.int8)
case('test_x_quantize_axis_int8', 'QuantizeLinear', [x, sc, zp], [q], 13, axis=1)
case('test_x_dequantize_axis_int8', 'DequantizeLinear', [q, sc, zp], [((q.astype(np.float32) - zp.reshape(1, 3, 1)) * sc.reshape(1, 3, 1)).astype(np.float32)], 13, axis=-2)
# LayerNormalization axis 1 with broadcast scale [1, 5] and no bias; BatchNorm-7 spatial=0
x = f32(2, 3, 5); sc = f32(1, 5)
mu = x.mean(axis=(1, 2), keepdims=True); var = x.var(axis=(1, 2), keepdims=True); inv = 1 / np.sqrt(var + 1e-5)
case('test_x_layernorm_bcast_scale', 'LayerNormalization', [x, sc], [((x - mu) * inv * sc).astype(np.float32), mu.astype(np.float32), inv.astype(np.float32)], 17, axis=1)
x = f32(2, 3, 4); sc, bi, mn = f32(3, 4), f32(3, 4), f32(3, 4); vr = np.abs(f32(3, 4)) + 0.5
case('test_x_batchnorm_v7_per_element', 'BatchNormalization', [x, sc, bi, mn, vr], [((x - mn) / np.sqrt(vr + 1e-5) * sc + bi).astype(np.float32)], 7, spatial=0)
# Det of singular and 3x3 batch
a = f32(2, 3, 3); a[1, 2] = a[1, 0]
case('test_x_det_batch', 'Det', [a], [np.linalg.det(a.astype(np.float64)).astype(np.float32)], 11)
# MatMulInteger with per-row / per-column zero points
a = rng.integers(0, 255, (3, 4)).astype(np.uint8); bq = rng.integers(-128, 127, (4, 2)).astype(np.int8)
az = np.array([1, 2, 3], np.uint8); bz = np.array([-1, 5], np.int8)
case('test_x_matmulinteger_rowcol_zp', 'MatMulInteger', [a, bq, az, bz],
     [((a.astype(np.int32) - az.reshape(3, 1)) @ (bq.astype(np.int32) - bz.reshape(1, 2))).astype(np.int32)], 10)
