"""The face path (YuNet-s-640 detection, 5-point alignment, MobileFaceNet embedding) through ONNX
Runtime's Python API, with the same preprocessing as the Rust `models` crate, for a side-by-side
latency comparison with `cargo bench -p benches --bench face_path` (see BENCHMARKS.md).

Usage: python face_path_bench.py MODELS_DIR PHOTO [RUNS]
"""
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort

ARCFACE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                    [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float32)


def load_rgb(path):
    from PIL import Image
    return np.asarray(Image.open(path).convert("RGB"))


def bilinear(img, xs, ys):
    h, w, _ = img.shape
    x0 = np.floor(xs).astype(np.int64)
    y0 = np.floor(ys).astype(np.int64)
    fx = (xs - x0)[..., None]
    fy = (ys - y0)[..., None]
    def px(x, y):
        return img[np.clip(y, 0, h - 1), np.clip(x, 0, w - 1)].astype(np.float32)
    top = px(x0, y0) * (1 - fx) + px(x0 + 1, y0) * fx
    bot = px(x0, y0 + 1) * (1 - fx) + px(x0 + 1, y0 + 1) * fx
    return top * (1 - fy) + bot * fy


def letterbox_bgr(img, size):
    h, w, _ = img.shape
    s = min(size / w, size / h)
    cw, ch = round(w * s), round(h * s)
    xs, ys = np.meshgrid((np.arange(cw) + 0.5) / s - 0.5, (np.arange(ch) + 0.5) / s - 0.5)
    content = bilinear(img, np.maximum(xs, 0), np.maximum(ys, 0))
    out = np.zeros((size, size, 3), dtype=np.float32)
    out[:ch, :cw] = content
    return out[..., ::-1].transpose(2, 0, 1)[None].copy(), s


def detect(sess, img, thr=0.7):
    x, s = letterbox_bgr(img, 640)
    names = [f"{k}_{st}" for st in (8, 16, 32) for k in ("cls", "obj", "bbox", "kps")]
    outs = dict(zip(names, sess.run(names, {"input": x})))
    faces = []
    for st in (8, 16, 32):
        cls, obj = outs[f"cls_{st}"][0, :, 0], outs[f"obj_{st}"][0, :, 0]
        score = np.sqrt(np.clip(cls, 0, 1) * np.clip(obj, 0, 1))
        cols = 640 // st
        for i in np.nonzero(score >= thr)[0]:
            r, c = divmod(i, cols)
            b = outs[f"bbox_{st}"][0, i]
            k = outs[f"kps_{st}"][0, i]
            cx, cy = (c + b[0]) * st, (r + b[1]) * st
            w, h = np.exp(b[2]) * st, np.exp(b[3]) * st
            lm = np.array([[(c + k[2 * j]) * st, (r + k[2 * j + 1]) * st] for j in range(5)]) / s
            faces.append((score[i], np.array([cx - w / 2, cy - h / 2, w, h]) / s, lm))
    faces.sort(key=lambda f: -f[0])
    keep = []
    for f in faces:
        if all(iou(f[1], k[1]) <= 0.3 for k in keep):
            keep.append(f)
    return keep


def iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def similarity(src, dst):
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    den = (s ** 2).sum()
    a = (s[:, 0] * d[:, 0] + s[:, 1] * d[:, 1]).sum() / den
    b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum() / den
    return np.array([[a, -b, md[0] - (a * ms[0] - b * ms[1])], [b, a, md[1] - (b * ms[0] + a * ms[1])]])


def align_embed(sess, img, lm):
    m = similarity(ARCFACE, lm.astype(np.float32))
    xs, ys = np.meshgrid(np.arange(112), np.arange(112))
    sx = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
    sy = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
    crop = np.round(bilinear(img, sx, sy))
    x = crop.transpose(2, 0, 1)[None].astype(np.float32)
    return sess.run(["embedding"], {"input": x})[0]


def main():
    models, photo = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    det = ort.InferenceSession(f"{models}/face_detection/yunet_s_640_640.onnx", opts, providers=["CPUExecutionProvider"])
    emb = ort.InferenceSession(f"{models}/face_recognition/mobilefacenet_192d.onnx", opts, providers=["CPUExecutionProvider"])
    img = load_rgb(photo)
    faces = detect(det, img)
    assert faces, "no face"
    lm = faces[0][2]
    x_det, _ = letterbox_bgr(img, 640)
    x_emb = np.zeros((1, 3, 112, 112), dtype=np.float32)
    cases = [
        ("detect (numpy letterbox + ORT + decode)", lambda: detect(det, img)),
        ("detect, ORT inference only", lambda: det.run(None, {"input": x_det})),
        ("align+embed (numpy warp + ORT)", lambda: align_embed(emb, img, lm)),
        ("embed, ORT inference only", lambda: emb.run(None, {"input": x_emb})),
    ]
    time_cases(cases, runs)


def time_cases(cases, runs):
    """Runs each (name, fn) once to warm up, then `runs` times; prints the median and min."""
    for name, fn in cases:
        fn()
        t = []
        for _ in range(runs):
            t0 = time.perf_counter()
            fn()
            t.append((time.perf_counter() - t0) * 1000)
        print(f"python {name}: median {statistics.median(t):.2f} ms (min {min(t):.2f}, n={runs})")


if __name__ == "__main__":
    main()
