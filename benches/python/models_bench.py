"""Each model with its pre- and post-processing through ONNX Runtime's Python API (numpy, scipy
for connected regions), doing the same steps as the Rust `models` crate, for a side-by-side
latency comparison with `cargo bench -p benches --bench models_latency` (see BENCHMARKS.md).

Usage: python models_bench.py MODELS_DIR TESTDATA_DIR [RUNS]
"""
import sys

import numpy as np
import onnxruntime as ort
from scipy import ndimage

from face_path_bench import ARCFACE, bilinear, detect, load_rgb, similarity, time_cases

COCO_KEEP = {0: "person", 1: "bicycle", 2: "car", 3: "motorcycle", 5: "bus", 7: "truck"}
ALPHABET = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def letterbox(img, iw, ih, pad, bgr):
    h, w, _ = img.shape
    s = min(iw / w, ih / h)
    cw, ch = round(w * s), round(h * s)
    xs, ys = np.meshgrid((np.arange(cw) + 0.5) / s - 0.5, (np.arange(ch) + 0.5) / s - 0.5)
    content = bilinear(img, np.maximum(xs, 0), np.maximum(ys, 0))
    out = np.full((ih, iw, 3), pad, dtype=np.float32)
    out[:ch, :cw] = content
    if bgr:
        out = out[..., ::-1]
    return out, s


def nms(dets, thr):
    dets.sort(key=lambda d: -d[1])
    keep = []
    for d in dets:
        if all(k[0] != d[0] or iou(k[2], d[2]) <= thr for k in keep):
            keep.append(d)
    return keep


def iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def yolox(sess, img, thr=0.3):
    x, s = letterbox(img, 416, 416, 114.0, True)
    out = sess.run(["output"], {"images": x.transpose(2, 0, 1)[None].copy()})[0][0]
    grids = []
    for st in (8, 16, 32):
        n = 416 // st
        gy, gx = np.mgrid[0:n, 0:n]
        grids.append(np.stack([gx.ravel(), gy.ravel(), np.full(n * n, st)], 1))
    g = np.concatenate(grids).astype(np.float32)
    dets = []
    for cid, label in COCO_KEEP.items():
        score = out[:, 4] * out[:, 5 + cid]
        for i in np.nonzero(score >= thr)[0]:
            cx, cy = (out[i, 0] + g[i, 0]) * g[i, 2], (out[i, 1] + g[i, 1]) * g[i, 2]
            w, h = np.exp(out[i, 2]) * g[i, 2], np.exp(out[i, 3]) * g[i, 2]
            dets.append((label, score[i], [(cx - w / 2) / s, (cy - h / 2) / s, w / s, h / s]))
    return nms(dets, 0.45)


MEAN_DET = np.array([123.675, 116.28, 103.53], dtype=np.float32)
STD_DET = np.array([58.395, 57.12, 57.375], dtype=np.float32)


def text_det(sess, img, side=640, thr=0.3, box_thr=0.5, unclip=1.6):
    h, w, _ = img.shape
    s = side / max(w, h)
    iw, ih = (max(32, -(-round(w * s) // 32) * 32), max(32, -(-round(h * s) // 32) * 32))
    x, lb = letterbox(img, iw, ih, 0.0, False)
    x = (x - MEAN_DET) / STD_DET
    prob = sess.run(None, {"x": x.transpose(2, 0, 1)[None].astype(np.float32)})[0][0, 0]
    labels, n = ndimage.label(prob > thr)
    boxes = []
    for i, sl in enumerate(ndimage.find_objects(labels)):
        region = labels[sl] == i + 1
        score = prob[sl][region].mean()
        bh, bw = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        if score < box_thr or bw < 3 or bh < 3:
            continue
        d = bw * bh * unclip / (2 * (bw + bh))
        boxes.append(((sl[1].start - d) / lb, (sl[0].start - d) / lb, (bw + 2 * d) / lb, (bh + 2 * d) / lb, score))
    return boxes


def load_keys(path):
    keys = [line.rstrip("\n") for line in open(path, encoding="utf-8")]
    return np.array([i + 1 for i, k in enumerate(keys) if k in ALPHABET]), [k for k in keys if k in ALPHABET]


def text_rec(sess, img, allowed, chars, height=48, max_width=480, min_width=160):
    h, w, _ = img.shape
    natural = w * height / h
    k = min(min_width / natural, 2.0) if natural < min_width else 1.0
    tw = int(min(max(np.ceil(natural * k), 16), max_width))
    iw = -(-tw // 8) * 8
    sx, sy = tw / w, height / h
    xs, ys = np.meshgrid((np.arange(tw) + 0.5) / sx - 0.5, (np.arange(height) + 0.5) / sy - 0.5)
    content = bilinear(img, np.maximum(xs, 0), np.maximum(ys, 0))
    x = np.full((height, iw, 3), 127.5, dtype=np.float32)
    x[:, :tw] = content
    x = (x - 127.5) / 127.5
    probs = sess.run(None, {"x": x.transpose(2, 0, 1)[None].astype(np.float32)})[0][0]
    sub = probs[:, allowed]
    best = sub.argmax(1)
    text, prev = [], None
    for t in range(probs.shape[0]):
        if sub[t, best[t]] > probs[t, 0]:
            if prev != best[t]:
                text.append(chars[best[t]])
            prev = best[t]
        else:
            prev = None
    return "".join(text)


def face_path(det, emb, img):
    faces = detect(det, img)
    crops = []
    for f in faces:
        m = similarity(ARCFACE, f[2].astype(np.float32))
        xs, ys = np.meshgrid(np.arange(112), np.arange(112))
        sx = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
        sy = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
        crops.append(np.round(bilinear(img, sx, sy)).transpose(2, 0, 1))
    if crops:
        emb.run(["embedding"], {"input": np.stack(crops).astype(np.float32)})
    return len(faces)


def main():
    models, data = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    cpu = ["CPUExecutionProvider"]
    sess = lambda p: ort.InferenceSession(f"{models}/{p}", opts, providers=cpu)  # noqa: E731
    yx = sess("object_detection/yolox_nano_coco80.onnx")
    det = sess("ocr/ppocrv4/ch_PP-OCRv4_det_infer.onnx")
    rec = sess("ocr/ppocrv4/ch_PP-OCRv4_rec_infer.onnx")
    fdet = sess("face_detection/yunet_s_640_640.onnx")
    femb = sess("face_recognition/mobilefacenet_192d.onnx")
    allowed, chars = load_keys(f"{models}/ocr/ppocrv4/ppocr_keys_v1.txt")
    scene = load_rgb(f"{data}/plates/vn_scenes_labelled/images/type1_000.jpg")
    crop = load_rgb(f"{data}/plates/vn_crops/images/10xemay112.jpg")
    cases = [
        ("yolox_nano 416: letterbox + infer + decode + NMS", lambda: yolox(yx, scene)),
        ("ppocrv4_det 640: resize + infer + DB post-processing", lambda: text_det(det, scene)),
        ("ppocrv4_rec: resize + infer + CTC decode", lambda: text_rec(rec, crop, allowed, chars)),
    ]
    for rel, label in [("faces/face_recognition_examples/obama.jpg", "1 face"),
                       ("faces/groups/couple.jpg", "2 faces"),
                       ("faces/groups/selfie-many-people.jpg", "6 faces")]:
        img = load_rgb(f"{data}/{rel}")
        cases.append((f"face path per frame, {label} (found {face_path(fdet, femb, img)})",
                      lambda img=img: face_path(fdet, femb, img)))
    print(f"python check: rec reads {text_rec(rec, crop, allowed, chars)!r}; yolox finds "
          f"{[d[0] for d in yolox(yx, scene)]}; det finds {len(text_det(det, scene))} boxes")
    time_cases(cases, runs)


if __name__ == "__main__":
    main()
