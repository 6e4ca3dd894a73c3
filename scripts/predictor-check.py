#!/usr/bin/env python3
"""Checks the failure predictor the way a team would, over HTTP, on a build history that
Flightdeck's own demo generator did not write.

The history comes from a second, independent generator (below), shaped on purpose unlike
`server/src/demo/builds.rs`: more pipelines and authors, per-author skill drawn at random,
conventional-commit messages, flaky failures that do not persist beside real breakage that
does until a fix lands, nightly runs twice as flaky. It knows each build's true failure
probability, so it can say what the best possible predictor would score.

For each seed it starts the built binary on an empty database and does one of two checks:
  import: import the whole history, `POST /builds/model`, print its time-ordered evaluation;
  live:   import the oldest 70 %, train, then for each newer build in order ask
          `POST /builds/predict` with its pre-run fields before posting its outcome, and score
          those answers against "the same as the last build on this branch" and "always success"
          (the model retrains by itself after 500 new finished builds, as it would in use).
At the end: on how many seeds the accuracy beat 0.80 and "always the majority", and the failure
F1 beat the last build's.

With --signals the history also carries what tells a flake from real breakage in real CI: the
number of failed tests, and re-runs of failed builds on the same commit.

With --textbook it is a third history instead, the kind a test of a predictor is often written
with: each build's chance of failure is a logistic function of what is known before it runs
(change size, message word, trigger, part of the day, Friday afternoon, the author's and the
pipeline's own risk, and whether the last build on the branch failed), with nothing hidden. The
best possible predictor is then of the model's own kind, and what is lost is estimation.

With --additive it is a fourth, the way a quick test might be written: risks added up, and a
red branch staying red about half the time unless a fix lands.

usage: scripts/predictor-check.py [--seeds 1-20] [--mode import|live]
                                  [--signals | --textbook | --additive]
                                  [--binary target/release/flightdeck] [--site target/site]
"""
import argparse
import datetime as dt
import json
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

PIPELINES = [  # name, flakiness
    ("acme/checkout/ci", 0.02),
    ("acme/checkout/e2e", 0.10),
    ("acme/ledger/ci", 0.03),
    ("acme/mobile/build", 0.05),
    ("acme/infra/terraform", 0.02),
    ("acme/search/ci", 0.04),
]
KINDS = [  # conventional-commit type, weight, how much it raises real breakage
    ("feat", 30, 1.3),
    ("fix", 25, 0.8),
    ("chore(deps)", 10, 1.8),
    ("docs", 10, 0.15),
    ("refactor", 10, 1.4),
    ("test", 8, 0.9),
    ("ci", 4, 1.1),
    ("perf", 3, 1.2),
]
SUBJECTS = ["checkout flow", "payment retries", "search index", "login page", "build cache",
            "rate limiter", "order export", "metrics", "feature flags", "db pool"]


def history(seed, n, signals=False):
    """`signals` adds two things real CI has that the plain history leaves out: a flaky failure
    fails a test or two while a real breakage fails many, and a failed build is sometimes
    re-run on the same commit (which fails again only if the code is really broken)."""
    rng = random.Random(seed)
    authors = [(f"dev{i:02d}", min(0.35, rng.betavariate(2, 30) + (0.15 if i in (3, 11) else 0.0)))
               for i in range(16)]
    start = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    broken = {}  # (pipeline, branch) -> a real breakage not fixed yet
    open_branches = {p: [] for p, _ in PIPELINES}
    out, t, rerun = [], start, None
    for i in range(n):
        if rerun:
            rerun = dict(rerun, source_id=f"check-{seed}-{i}")
            t += dt.timedelta(minutes=rng.uniform(2, 20))
            flaky = dict(PIPELINES)[rerun["pipeline"]]
            key = (rerun["pipeline"], rerun["branch"])
            breakage = 0.97 if broken.get(key) else 0.0
            real = rng.random() < breakage
            failed = real or rng.random() < flaky
            broken[key] = real
            done = finish(rng, rerun, t, failed, real, 1 - (1 - breakage) * (1 - flaky))
            out.append(dict(done, _broken=breakage > 0))
            rerun = None
            continue
        t += dt.timedelta(minutes=rng.expovariate(1 / 45))
        pipeline, flaky = rng.choice(PIPELINES)
        nightly = t.hour < 5 and rng.random() < 0.6
        if nightly:
            branch, trigger, (author, skill) = "main", "schedule", ("scheduler", 0.0)
        else:
            author, skill = rng.choice(authors)
            r = rng.random()
            if r < 0.35:
                branch, trigger = "main", "push"
            elif r < 0.40:
                branch, trigger = "main", "manual"
            else:
                branches = open_branches[pipeline]
                if not branches or rng.random() < 0.2:
                    branches.append(f"{author}/{rng.choice(SUBJECTS).replace(' ', '-')}-{i}")
                    del branches[:-6]
                branch, trigger = rng.choice(branches), "pull_request"
        key = (pipeline, branch)
        was_broken = broken.get(key, False)
        if nightly:
            kind, weight, lift = "chore", 0, 0.0
        elif was_broken and rng.random() < 0.55:
            kind, lift = ("fix", 0.8) if rng.random() < 0.75 else ("revert", 0.5)
        else:
            kind, _, lift = rng.choices(KINDS, weights=[k[1] for k in KINDS])[0]
        message = (f"Revert \"feat: {rng.choice(SUBJECTS)}\"" if kind == "revert"
                   else f"{kind}: {rng.choice(SUBJECTS)}" if not nightly else "nightly")
        lines = 0 if nightly else int(rng.lognormvariate(3.5 if kind == "docs" else 4.5, 1.3))
        files = 0 if nightly else max(1, int(lines / rng.uniform(15, 60)))
        size = math.log10(1 + lines) / 3
        breakage = 0.0 if nightly else min(0.9, skill * lift * (0.4 + size))
        if was_broken:
            breakage = 0.25 if kind in ("fix", "revert") else 0.8
        flake = flaky * (2 if nightly else 1)
        p = 1 - (1 - breakage) * (1 - flake)
        real = rng.random() < breakage
        failed = real or rng.random() < flake
        if not was_broken or kind in ("fix", "revert") or not failed:
            broken[key] = real
        build = {
            "source_id": f"check-{seed}-{i}",
            "pipeline": pipeline,
            "branch": branch,
            "commit": "%040x" % rng.getrandbits(160),
            "author": author,
            "trigger": trigger,
            "message": message,
            "files_changed": files,
            "lines_added": lines * 3 // 4,
            "lines_deleted": lines // 4,
            # Hidden state no predictor sees (fields starting "_" are never sent), for
            # scripts/predictor-gap.py: is the branch really broken, and the author's skill.
            "_broken": was_broken,
            "_skill": skill,
        }
        build = finish(rng, build, t, failed, real if signals else None, p)
        out.append(build)
        if signals and failed and not nightly and rng.random() < 0.3:
            rerun = {k: v for k, v in build.items() if not k.startswith("_") or k == "_skill"}
    return out


TEXTBOOK_PIPELINES = [("acme/api/ci", -0.2), ("acme/web/ci", 0.0), ("acme/mobile/build", 0.4),
                      ("acme/infra/plan", -0.5), ("acme/data/etl", 0.2)]
TEXTBOOK_WORDS = [("feat", 0.3), ("fix", -0.1), ("docs", -1.2), ("bump", 0.5), ("refactor", 0.4),
                  ("wip", 0.9), ("test", 0.0), ("revert", -0.4)]  # word, its log-odds


def textbook(seed, n):
    """Failure as a logistic function of observable pre-run features (see the module's doc)."""
    rng = random.Random(seed)
    authors = [(f"dev{i}", rng.gauss(0, 0.6)) for i in range(20)]
    t = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    last, out = {}, []
    for i in range(n):
        t += dt.timedelta(minutes=rng.expovariate(1 / 40))
        pipeline, pipeline_risk = rng.choice(TEXTBOOK_PIPELINES)
        author, author_risk = rng.choice(authors)
        r = rng.random()
        if r < 0.4:
            branch, trigger = "main", "push"
        elif r < 0.45:
            branch, trigger = "main", "schedule"
        elif r < 0.5:
            branch, trigger = "main", "manual"
        else:
            branch, trigger = f"feature/{author}-{rng.randint(0, 8)}", "pull_request"
        word, word_risk = rng.choice(TEXTBOOK_WORDS)
        lines = int(rng.lognormvariate(4.0, 1.4))
        terms = [author_risk, pipeline_risk, math.log10(1 + lines) - 2, word_risk,
                 float(last.get((pipeline, branch), False)), float(t.hour >= 22 or t.hour < 6),
                 float(t.weekday() == 4 and t.hour >= 14), float(trigger == "pull_request")]
        logit = -2.4 + sum(w * x for w, x in zip((1, 1, 0.8, 1, 1.9, 0.5, 0.5, 0.2), terms))
        p = 1 / (1 + math.exp(-logit))
        failed = rng.random() < p
        last[(pipeline, branch)] = failed
        build = {"source_id": f"textbook-{seed}-{i}", "pipeline": pipeline, "branch": branch,
                 "commit": "%040x" % rng.getrandbits(160), "author": author, "trigger": trigger,
                 "message": f"{word}: {rng.choice(SUBJECTS)}", "files_changed": max(1, lines // 30),
                 "lines_added": lines * 3 // 4, "lines_deleted": lines // 4,
                 "_terms": terms}  # hidden, for scripts/predictor-gap.py's ceiling
        out.append(finish(rng, build, t, failed, None, p))
    return out


ADDITIVE_PIPELINES = [("org/api/ci", 0.03), ("org/web/ci", 0.06), ("org/e2e/tests", 0.12),
                      ("org/infra/deploy", 0.02)]
ADDITIVE_MESSAGES = [("feat: add {}", 0.05), ("fix: {}", -0.02), ("docs: update {}", -0.06),
                     ("chore: bump {}", 0.04), ("refactor {}", 0.06), ("WIP {}", 0.2),
                     ("test: cover {}", 0.0)]  # message, the risk it adds


def additive(seed, n):
    """A fourth history, written the way a quick test of a predictor might be: risks added up
    (the pipeline's, one careless author and two careful-ish ones, the message, a large change,
    Friday afternoon), halved on a green branch, and a red branch staying red about half the
    time unless a fix lands. About 17 % of builds fail."""
    rng = random.Random(seed)
    authors = [(f"user{i}", 0.25 if i == 0 else 0.08 if i in (1, 2) else 0.0) for i in range(10)]
    t = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)
    last, out = {}, []
    for i in range(n):
        t += dt.timedelta(minutes=rng.expovariate(1 / 40))
        (pipeline, pipeline_risk), (author, author_risk) = (rng.choice(ADDITIVE_PIPELINES),
                                                            rng.choice(authors))
        if rng.random() < 0.5:
            branch, trigger = "main", "push"
        else:
            branch, trigger = f"feature/{author}-{rng.randint(0, 5)}", "pull_request"
        template, message_risk = rng.choice(ADDITIVE_MESSAGES)
        lines = int(rng.lognormvariate(4.0, 1.3))
        p = (0.01 + pipeline_risk + author_risk + message_risk
             + (0.2 if lines > 500 else 0.05 if lines > 150 else 0.0)
             + (0.08 if t.weekday() == 4 and t.hour >= 15 else 0.0))
        if last.get((pipeline, branch)):
            p += 0.05 if template.startswith("fix") else 0.45
        else:
            p *= 0.5
        p = min(max(p, 0.005), 0.95)
        failed = rng.random() < p
        last[(pipeline, branch)] = failed
        build = {"source_id": f"additive-{seed}-{i}", "pipeline": pipeline, "branch": branch,
                 "commit": "%040x" % rng.getrandbits(160), "author": author, "trigger": trigger,
                 "message": template.format(rng.choice(SUBJECTS)),
                 "files_changed": max(1, lines // 25), "lines_added": lines * 2 // 3,
                 "lines_deleted": lines // 3}
        out.append(finish(rng, build, t, failed, None, p))
    return out


def finish(rng, build, t, failed, real, p):
    """The build's start, outcome and test counts; `real` (None: not modelled) says whether a
    failure is real breakage, which fails many tests, or a flake, which fails one or two."""
    duration = rng.uniform(120, 900) * (0.5 if failed else 1.0)
    status = "failure" if failed else ("cancelled" if rng.random() < 0.02 else "success")
    if not failed:
        tests_failed = 0
    elif real is None:
        tests_failed = rng.randint(1, 9)
    else:
        tests_failed = max(1, int(rng.lognormvariate(2.0, 1.0))) if real else rng.choice((1, 1, 2))
    return dict(build, started_at=t.isoformat().replace("+00:00", "Z"),
                finished_at=(t + dt.timedelta(seconds=duration)).isoformat().replace("+00:00", "Z"),
                status=status, tests_total=800, tests_failed=tests_failed, _p=p)


def call(base, token, method, path, body=None, ndjson=False):
    data = None
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        if ndjson:
            data = "\n".join(json.dumps(b) for b in body).encode()
            headers["Content-Type"] = "application/x-ndjson"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    req = urllib.request.Request(base + "/api/v1" + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


def public(b):
    return {k: v for k, v in b.items() if not k.startswith("_")}


def scores(pred, actual):
    tp = sum(p and a for p, a in zip(pred, actual))
    fp = sum(p and not a for p, a in zip(pred, actual))
    fn = sum(a and not p for p, a in zip(pred, actual))
    acc = sum(p == a for p, a in zip(pred, actual)) / len(actual)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return acc, f1


def check(base, token, seed, n, mode, kind):
    """Runs one check against a server on a history of `kind` (plain, signals or textbook);
    returns (accuracy, f1, baseline f1, majority accuracy)."""
    builds = (textbook(seed, n) if kind == "textbook" else additive(seed, n) if kind == "additive"
              else history(seed, n, kind == "signals"))
    outcomes = [b for b in builds if b["status"] in ("success", "failure")]
    cut = round(len(outcomes) * 0.7)
    test = outcomes[cut:]
    actual = [b["status"] == "failure" for b in test]
    # What the generator's own probabilities score (they know whether a branch is really broken,
    # which no predictor can see): the most accurate cut, and one that trades accuracy for F1.
    best = [scores([b["_p"] >= t for b in test], actual) for t in (0.5, 0.3)]
    share = sum(actual) / len(actual)
    print(f"seed {seed}: {len(outcomes)} finished builds, {share:.0%} of the newest 30 % failed; "
          f"true probabilities >= 0.5: {best[0][0]:.3f} / F1 {best[0][1]:.3f}, >= 0.3: "
          f"{best[1][0]:.3f} / {best[1][1]:.3f}; always success {1 - share:.3f}")
    if mode == "import":
        call(base, token, "POST", "/builds/import", [public(b) for b in builds], ndjson=True)
        e = call(base, token, "POST", "/builds/model", {})["evaluation"]
        print(f"  model accuracy {e['accuracy']:.3f} F1 {e['f1']:.3f} | last build "
              f"{e['baseline_accuracy']:.3f} / {e['baseline_f1']:.3f} | majority "
              f"{e['majority_accuracy']:.3f} | threshold {e['threshold']}")
        return e["accuracy"], e["f1"], e["baseline_f1"], e["majority_accuracy"]
    first = builds.index(test[0])
    call(base, token, "POST", "/builds/import", [public(b) for b in builds[:first]])
    call(base, token, "POST", "/builds/model", {})
    predicted, baseline, last = [], [], {}
    for i, b in enumerate(builds):
        key = (b["pipeline"], b["branch"])
        if i >= first and b["status"] in ("success", "failure"):
            pre = {k: b[k] for k in ("pipeline", "branch", "commit", "author", "trigger", "message",
                                      "files_changed", "lines_added", "lines_deleted", "started_at")}
            answer = call(base, token, "POST", "/builds/predict", pre)
            predicted.append(answer["prediction"] == "failure")
            baseline.append(last.get(key, False))
        if i >= first:
            call(base, token, "POST", "/builds", public(b))
        if b["status"] in ("success", "failure"):
            last[key] = b["status"] == "failure"
    m, base_scores = scores(predicted, actual), scores(baseline, actual)
    print(f"  live, one at a time: model accuracy {m[0]:.3f} F1 {m[1]:.3f} | last build "
          f"{base_scores[0]:.3f} / {base_scores[1]:.3f} | always success {1 - share:.3f}")
    return m[0], m[1], base_scores[1], max(share, 1 - share)


def serve(binary, site, seed, n, mode, kind):
    """Starts the binary on an empty database, runs one check, stops it."""
    with tempfile.TemporaryDirectory() as work:
        env = dict(os.environ, FLIGHTDECK_DATABASE_URL=f"sqlite://{work}/check.db",
                   FLIGHTDECK_SITE_ROOT=site, FLIGHTDECK_ADMIN_PASSWORD="predictor-check-password")
        token = subprocess.run([binary, "token", "create", "--name", "check", "--role", "admin"],
                               env=env, check=True, capture_output=True, text=True).stdout.strip()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env["FLIGHTDECK_ADDR"] = f"127.0.0.1:{port}"
        log = open(f"{work}/server.log", "w")
        server = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(base + "/api/health")
                    break
                except OSError:
                    time.sleep(0.1)
            return check(base, token, seed, n, mode, kind)
        finally:
            server.terminate()
            server.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="1-20")
    ap.add_argument("--builds", type=int, default=3000)
    ap.add_argument("--mode", choices=["import", "live"], default="import")
    ap.add_argument("--binary", default="target/release/flightdeck")
    ap.add_argument("--site", default="target/site")
    shape = ap.add_mutually_exclusive_group()
    shape.add_argument("--signals", action="store_true",
                       help="flakes fail one or two tests, real breakage many; failed builds re-run")
    shape.add_argument("--textbook", action="store_true",
                       help="failure a logistic function of the pre-run features, nothing hidden")
    shape.add_argument("--additive", action="store_true",
                       help="risks added up, a red branch staying red about half the time")
    a = ap.parse_args()
    kind = ("textbook" if a.textbook else "additive" if a.additive else "signals" if a.signals
            else "plain")
    low, _, high = a.seeds.partition("-")
    seeds = range(int(low), int(high or low) + 1)
    accurate = better = both = 0
    accuracy_sum = f1_gap_sum = 0.0
    for seed in seeds:
        acc, f1, base_f1, majority = serve(a.binary, a.site, seed, a.builds, a.mode, kind)
        accuracy_sum += acc
        f1_gap_sum += f1 - base_f1
        accurate += acc > 0.80 and acc > majority
        better += f1 > base_f1
        both += acc > 0.80 and acc > majority and f1 > base_f1
    print(f"\nseeds {a.seeds} ({a.mode}, {kind}): accuracy above 0.80 and the majority's on {accurate}, "
          f"F1 above the last build's on {better}, both on {both} of {len(seeds)}; "
          f"mean accuracy {accuracy_sum / len(seeds):.4f}, mean F1 less the last build's "
          f"{f1_gap_sum / len(seeds):+.4f}")


if __name__ == "__main__":
    sys.exit(main())
