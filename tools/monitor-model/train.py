#!/usr/bin/env python3
"""Train the monitor's learned layer and write data/monitor/text-model.json.

The model is a multinomial logistic regression over character 1- to 4-grams of the folded
article (the text the lexicons match), with `none` as one class, so one model gives both the
probability that an article is relevant and the probabilities of the event types. See
docs/monitor-evaluation.md ("The learned layer") for why and for its figures.

Input: the JSON lines of the evaluate example's `--dump` (labels, the folded text exactly as the
Rust code builds it, and the rules' own decision), so the n-grams here and in
crates/chipwatch-monitor/src/learned.rs come from the same text.

    cargo run --release -p chipwatch-monitor --example evaluate -- \
        data/eval/monitor/labels.toml --dump /tmp/dev.jsonl
    cargo run --release -p chipwatch-monitor --example evaluate -- \
        data/eval/monitor-heldout/labels.toml --dump /tmp/heldout.jsonl
    bash tools/monitor-model/before.sh /tmp/before
    python3 tools/monitor-model/train.py /tmp/dev.jsonl /tmp/heldout.jsonl --before /tmp/before

Only the development set trains the model and sets the thresholds. The thresholds are chosen on
the articles of the writing rounds, each scored by the rules as they stood before its round
(before.sh) and by a model that never saw it (5-fold cross-validation). The held-out set is only
reported.
Needs numpy and scikit-learn; deterministic (fixed seeds, lbfgs).
"""

import argparse
import json
import math
import os
import pickle
import sys

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

import policy

NGRAM_MIN, NGRAM_MAX = 1, 4
# Vocabulary: the most frequent n-grams seen in at least MIN_DF articles, then the FEATURES
# with the largest weight in a first fit. More features barely move the cross-validated scores
# and make the shipped file larger.
MIN_DF, PRESELECT, FEATURES = 3, 60_000, 4_000
C = 20.0
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../data/monitor/text-model.json")
# Short check texts written for this file (not from any outlet): the Rust test scores them and
# must match the probabilities computed here.
CHECKS = [
    "the netherlands tightens export licences for asml immersion scanners to china from 1 september.",
    "삼성전자 평택 공장 화재로 메모리 생산 일부 중단",
    "台积电宣布在熊本建设第二座晶圆厂，投资额约200亿美元。",
    "de gemeente opent een nieuw zwembad met een duurzame verwarming.",
]


def grams(s):
    out = []
    for n in range(NGRAM_MIN, NGRAM_MAX + 1):
        out.extend(s[i : i + n] for i in range(len(s) - n + 1))
    return out


def load(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    for r in rows:
        if not r["relevant"]:
            r["event_type"] = "none"
    return rows


def fit(texts, labels, vocabulary=None):
    if vocabulary is None:
        vec = TfidfVectorizer(
            analyzer=grams, min_df=MIN_DF, max_features=PRESELECT, sublinear_tf=True
        )
    else:
        vec = TfidfVectorizer(analyzer=grams, vocabulary=vocabulary, sublinear_tf=True)
    x = vec.fit_transform(texts)
    m = LogisticRegression(C=C, max_iter=5000)
    m.fit(x, labels)
    return vec, m


# News excerpts are often a headline and a sentence or two: each training article is also
# learned from its first TRUNCATE characters, or the model would read a short text as "none"
# for want of n-grams.
TRUNCATE = [120, 250]


def augment(texts, labels):
    out_t, out_l = list(texts), list(labels)
    for t, lab in zip(texts, labels):
        for n in TRUNCATE:
            if len(t) > n:
                out_t.append(t[:n])
                out_l.append(lab)
    return out_t, np.array(out_l)


def train(texts, labels):
    """Two fits: pick the FEATURES n-grams with the largest weights, then refit on them."""
    texts, labels = augment(texts, labels)
    vec, m = fit(texts, labels)
    names = vec.get_feature_names_out()
    keep = np.argsort(-np.abs(m.coef_).max(axis=0), kind="stable")[:FEATURES]
    vocab = sorted(names[i] for i in keep)
    return fit(texts, labels, vocab)


def probabilities(vec, m, texts):
    return m.predict_proba(vec.transform(texts))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dev", help="--dump of the development set")
    ap.add_argument("heldout", nargs="?", help="--dump of the held-out set (only reported)")
    ap.add_argument(
        "--before",
        required=True,
        help="directory of before.sh's output: the rules' decisions on each writing round's "
        "development batch by the rules as they stood before that round",
    )
    ap.add_argument("--cache", help="pickle of the fitted models, reused when it exists")
    args = ap.parse_args()
    dev = load(args.dev)
    held = load(args.heldout) if args.heldout else []
    if args.cache and os.path.exists(args.cache):
        with open(args.cache, "rb") as f:
            oof, held_p, classes, vec, m = pickle.load(f)
    else:
        oof, held_p, classes, vec, m = fit_all(dev, held)
        if args.cache:
            with open(args.cache, "wb") as f:
                pickle.dump((oof, held_p, classes, vec, m), f)

    # The thresholds are chosen where neither side has seen the articles: the rules' decisions
    # from before each writing round on that round's batch, the model's out of fold. On the
    # development set as the rules stand now they look better than they are (they were tuned on
    # it), and thresholds chosen there would trust them too much.
    unseen, unseen_p = policy.unseen_sample(dev, oof, args.before)
    thresholds = policy.choose(unseen, unseen_p, classes)
    print("thresholds (chosen on the unseen sample):", thresholds)
    policy.report("unseen sample (rules before)", unseen, unseen_p, classes, thresholds)
    policy.report("development, out of fold", dev, oof, classes, thresholds)
    if held:
        policy.report("held-out", held, held_p, classes, thresholds)

    write(vec, m, classes, thresholds, len(dev), sorted({r["language"] for r in dev}))


def fit_all(dev, held):
    texts = [r["text"] for r in dev]
    labels = np.array([r["event_type"] for r in dev])

    # Out-of-fold probabilities on the development set.
    oof = None
    classes = None
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    for k, (tr, te) in enumerate(folds.split(texts, labels)):
        vec, m = train([texts[i] for i in tr], labels[tr])
        if classes is None:
            classes = list(m.classes_)
            oof = np.zeros((len(dev), len(classes)))
        assert list(m.classes_) == classes
        oof[te] = probabilities(vec, m, [texts[i] for i in te])
        print(f"fold {k + 1}/5 done", file=sys.stderr)

    vec, m = train(texts, labels)
    assert list(m.classes_) == classes
    held_p = probabilities(vec, m, [r["text"] for r in held]) if held else None
    return oof, held_p, classes, vec, m


def write(vec, m, classes, thresholds, n_dev, languages):
    names = vec.get_feature_names_out()
    idf = vec.idf_
    coef = m.coef_.T  # features x classes
    # Four significant digits: the file stays small and the probabilities move by < 1e-3.
    r4 = lambda v: float(f"{v:.4g}")
    features = [[str(n), r4(i), [r4(w) for w in row]] for n, i, row in zip(names, idf, coef)]
    intercepts = [r4(v) for v in m.intercept_]
    model = {
        "format": "chipwatch-text-model/1",
        "provenance": (
            f"multinomial logistic regression (scikit-learn, C={C}) over {len(names)} character "
            f"{NGRAM_MIN}- to {NGRAM_MAX}-grams of the folded text, trained on the {n_dev} "
            "articles of data/eval/monitor/labels.toml by tools/monitor-model/train.py"
        ),
        "ngram_min": NGRAM_MIN,
        "ngram_max": NGRAM_MAX,
        # The layer applies only to these: in any other language it has seen no text.
        "languages": languages,
        "classes": classes,
        "intercepts": intercepts,
        "thresholds": thresholds,
        "features": features,
        "checks": [
            {"text": t, "probabilities": [round(p, 6) for p in rounded_probs(features, intercepts, t)]}
            for t in CHECKS
        ],
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(model, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(features)} features, {len(classes)} classes", file=sys.stderr)


def rounded_probs(features, intercepts, text):
    """The probabilities from the rounded weights, computed as learned.rs does."""
    index = {f[0]: f for f in features}
    counts = {}
    for g in grams(text):
        if g in index:
            counts[g] = counts.get(g, 0) + 1
    x = {g: (1.0 + math.log(c)) * index[g][1] for g, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in x.values())) or 1.0
    logits = list(intercepts)
    for g, v in x.items():
        for k, w in enumerate(index[g][2]):
            logits[k] += v / norm * w
    mx = max(logits)
    e = [math.exp(v - mx) for v in logits]
    s = sum(e)
    return [v / s for v in e]


if __name__ == "__main__":
    main()
