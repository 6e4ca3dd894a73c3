#!/usr/bin/env python3
"""Where the failure predictor loses to "best possible", measured outside Flightdeck.

Takes the histories of scripts/predictor-check.py (its second, independent generator), which
also write down what no predictor can see: whether a build's branch is really broken, and
its author's true skill. Computes 24 of Flightdeck's features the way `app/src/builds/
features.rs` does (change size, trigger, branch, message words, night and weekend, the
last outcome, red streak, the author's failure rate over 10 and 100 builds, the pipeline's over
50, time since the last
build, a fix onto a red branch, the last failure's failed tests, re-runs), fits scikit-learn's
logistic regression on the oldest 70 %, picks the threshold on them with Flightdeck's rule
(`best_threshold`), and scores the newest 30 % against the last-build and majority baselines.
Then does the same with one thing added at a time:

  broken        the hidden "branch really broken" flag (what the generator knows)
  skill         the author's hidden skill
  author_breaks the author's failures among their last 100 builds started on a green branch
                (observable; tried in Flightdeck, see docs/benchmarks.md)
  boosting      gradient boosting instead of the logistic regression, same features
  bootstrap     the same model, with the threshold most likely to beat both targets on 200
                resamples of the training part instead of Flightdeck's rule

With --textbook, on the third history of predictor-check.py instead (failure a logistic
function of observable features, nothing hidden), beside two ceilings: the same logistic
regression on exactly the generator's terms (the author's and the pipeline's true risk among
them), and the generator's own probabilities, each with Flightdeck's threshold rule. With
--additive, on its fourth history, beside the generator's own probabilities.

Needs numpy and scikit-learn (pip install numpy scikit-learn); not part of the test command.
usage: scripts/predictor-gap.py [--seeds 1-30] [--textbook | --additive]
"""
import argparse
import datetime as dt
import importlib.util
import math
import os
import re
from collections import defaultdict, deque

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("check", os.path.join(HERE, "predictor-check.py"))
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


def has(message, words):
    return float(any(w in words for w in re.split(r"[^0-9a-z]+", message.lower())))


def rate(window):
    return (sum(window) + 1) / (len(window) + 5)


def samples(builds, extra):
    """Feature rows of the finished builds, each knowing only what came before it."""
    branches, authors, pipelines = {}, defaultdict(deque), defaultdict(deque)
    breaks = defaultdict(deque)
    rows, failed, last_build = [], [], []
    for b in builds:
        started = dt.datetime.fromisoformat(b["started_at"].replace("Z", "+00:00"))
        s = branches.setdefault((b["pipeline"], b["branch"]),
                                dict(failed=None, streak=0, started=None, tests=None, commit=None))
        if b["status"] in ("success", "failure"):
            lines, m, hour = b["lines_added"] + b["lines_deleted"], b["message"], started.hour
            red, rerun = s["failed"] is True, s["commit"] == b["commit"]
            since = (started - s["started"]).total_seconds() / 3600 if s["started"] else 0
            row = [math.log1p(lines),
                   float(b["trigger"] == "pull_request"), float(b["trigger"] == "schedule"),
                   float(b["trigger"] == "manual"), float(b["branch"] == "main"),
                   has(m, ["fix", "fixes", "fixed", "bug", "hotfix"]),
                   has(m, ["revert", "reverts", "rollback"]), has(m, ["docs", "doc", "readme", "typo"]),
                   has(m, ["bump", "deps", "dependency", "upgrade"]), has(m, ["refactor", "cleanup"]),
                   has(m, ["feat", "feature", "add", "new"]), float(not 7 <= hour < 20),
                   float(started.weekday() >= 5), float(red), float(s["failed"] is None),
                   math.log1p(s["streak"]), rate(list(authors[b["author"]])[-10:]),
                   rate(authors[b["author"]]), rate(pipelines[b["pipeline"]]),
                   math.log1p(since), float(red and has(m, ["fix", "fixes", "fixed", "revert", "reverts"])),
                   math.log1p(s["tests"] or 0), float(rerun), float(rerun and red)]
            if extra == "broken":
                row.append(float(b.get("_broken", False)))
            elif extra == "skill":
                row.append(math.log(b.get("_skill", 0.0) + 0.01))
            elif extra == "author_breaks":
                window = breaks[b["author"]]
                row.append((sum(window) + 0.5) / (len(window) + 10))
            rows.append(row)
            failed.append(b["status"] == "failure")
            last_build.append(red)
            now_failed = b["status"] == "failure"
            windows = [(authors[b["author"]], 100), (pipelines[b["pipeline"]], 50)]
            if not red:
                windows.append((breaks[b["author"]], 100))
            for window, cap in windows:
                window.append(now_failed)
                if len(window) > cap:
                    window.popleft()
            s.update(failed=now_failed, tests=b["tests_failed"] if now_failed else None,
                     commit=b["commit"], streak=s["streak"] + 1 if now_failed else 0)
        s["started"] = started
    return np.array(rows), np.array(failed), np.array(last_build)


scores = check.scores  # (accuracy, failure F1) of predictions against outcomes


def threshold(probabilities, actual, accuracy_bar, f1_bar):
    """Flightdeck's rule: the most accurate threshold whose F1 beats the last build's by a
    tenth without falling below either baseline's accuracy; failing that, the best F1 among
    the accurate enough; failing that, the most accurate."""
    candidates = [(t, *scores(probabilities >= t, actual)) for t in (s / 40 for s in range(4, 37))]
    good = [c for c in candidates if c[1] >= accuracy_bar and c[2] > 0 and c[2] >= f1_bar * 1.1]
    if good:
        return max(good, key=lambda c: (c[1], c[2], c[0]))[0]
    good = [c for c in candidates if c[1] >= accuracy_bar]
    if good:
        return max(good, key=lambda c: (c[2], c[1], c[0]))[0]
    return max(candidates, key=lambda c: (c[1], c[2], c[0]))[0]


def bootstrap_threshold(probabilities, actual, last_build, rounds=200):
    """The threshold that met both targets (accuracy above 0.80 and the majority's, F1 above
    the last build's) on the most resamples of the training part; ties take the middle one."""
    rng = np.random.default_rng(0)
    ts = np.array([s / 40 for s in range(4, 37)])
    said = probabilities[None, :] >= ts[:, None]
    wins = np.zeros(len(ts))
    for _ in range(rounds):
        pick = rng.integers(0, len(actual), len(actual))
        y, p = actual[pick], said[:, pick]
        tp, fp, fn = (p & y).sum(1), (p & ~y).sum(1), (~p & y).sum(1)
        f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
        _, base_f1 = scores(last_build[pick], y)
        wins += ((p == y).mean(1) > max(0.80, y.mean(), 1 - y.mean())) & (f1 > base_f1)
    best = ts[wins == wins.max()]
    return best[len(best) // 2]


def measure(seeds, signals, extra, boosting=False, bootstrap=False):
    """`signals` is True, False, "textbook" or "additive"; `extra` may also be "terms" (the textbook
    generator's own terms instead of Flightdeck's features) or "truth" (its probabilities)."""
    both, accuracy, f1_gap, auc = 0, [], [], []
    for seed in seeds:
        builds = (check.textbook(seed, 3000) if signals == "textbook"
                  else check.additive(seed, 3000) if signals == "additive"
                  else check.history(seed, 3000, signals))
        x, y, last = samples(builds, extra)
        if extra == "terms":  # the textbook generator's own terms, which it writes down
            x = np.array([b["_terms"] for b in builds if b["status"] in ("success", "failure")])
        cut = round(len(y) * 0.7)
        mean, sd = x[:cut].mean(0), x[:cut].std(0)
        z = (x - mean) / np.where(sd < 1e-9, 1.0, sd)
        model = (HistGradientBoostingClassifier(max_depth=3, max_iter=200, learning_rate=0.05)
                 if boosting else LogisticRegression(C=1.0, max_iter=2000))
        model.fit(z[:cut], y[:cut])
        train_p, test_p = model.predict_proba(z[:cut])[:, 1], model.predict_proba(z[cut:])[:, 1]
        if extra == "truth":
            truth = np.array([b["_p"] for b in builds if b["status"] in ("success", "failure")])
            train_p, test_p = truth[:cut], truth[cut:]
        share = y[:cut].mean()
        base_accuracy, base_f1 = scores(last[:cut], y[:cut])
        t = (bootstrap_threshold(train_p, y[:cut], last[:cut]) if bootstrap else
             threshold(train_p, y[:cut], max(base_accuracy, share, 1 - share), base_f1))
        acc, f1 = scores(test_p >= t, y[cut:])
        _, test_base_f1 = scores(last[cut:], y[cut:])
        majority = max(y[cut:].mean(), 1 - y[cut:].mean())
        both += acc > 0.80 and acc > majority and f1 > test_base_f1
        accuracy.append(acc)
        f1_gap.append(f1 - test_base_f1)
        auc.append(roc_auc_score(y[cut:], test_p))
    return both, np.mean(accuracy), np.mean(f1_gap), np.mean(auc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="1-30")
    ap.add_argument("--textbook", action="store_true")
    ap.add_argument("--additive", action="store_true")
    args = ap.parse_args()
    first, last = (int(s) for s in args.seeds.split("-"))
    seeds = range(first, last + 1)
    print("| history | features | both targets | mean accuracy | mean F1 less the last build's | ROC AUC |")
    print("|---|---|---|---|---|---|")
    if args.additive:
        for name, extra in (("Flightdeck's 24", None), ("the generator's probabilities", "truth")):
            both, acc, gap, auc = measure(seeds, "additive", extra)
            print(f"| additive | {name} | {both} of {len(seeds)} | {acc:.4f} | {gap:+.4f} | {auc:.3f} |",
                  flush=True)
        return
    if args.textbook:
        for name, extra in (("Flightdeck's 24", None), ("the generator's terms", "terms"),
                            ("the generator's probabilities", "truth")):
            both, acc, gap, auc = measure(seeds, "textbook", extra)
            print(f"| textbook | {name} | {both} of {len(seeds)} | {acc:.4f} | {gap:+.4f} | {auc:.3f} |",
                  flush=True)
        return
    for signals in (False, True):
        for name, extra, boosting, bootstrap in (
                ("Flightdeck's 24", None, False, False),
                ("+ broken (hidden)", "broken", False, False),
                ("+ skill (hidden)", "skill", False, False),
                ("+ author breaks", "author_breaks", False, False),
                ("Flightdeck's 24, boosting", None, True, False),
                ("Flightdeck's 24, bootstrap threshold", None, False, True)):
            both, acc, gap, auc = measure(seeds, signals, extra, boosting, bootstrap)
            print(f"| {'signals' if signals else 'plain'} | {name} | {both} of {len(seeds)} "
                  f"| {acc:.4f} | {gap:+.4f} | {auc:.3f} |", flush=True)


if __name__ == "__main__":
    main()
