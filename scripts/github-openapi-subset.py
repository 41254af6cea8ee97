#!/usr/bin/env python3
"""Derives the committed subset of GitHub's OpenAPI description that the fake GitHub server
(crates/testkit) checks requests and answers against.

    scripts/github-openapi-subset.py [--check] [FULL_DESCRIPTION]

FULL_DESCRIPTION defaults to ../shared/github-rest-api/api.github.com.json (GitHub's official
description as published by @octokit/openapi). The subset keeps:

* every path and method of the API, so a request to an operation GitHub does not have is still
  told apart from one the subset leaves out; operations outside OPERATIONS keep only their
  operationId and are marked `x-patcher-omitted`;
* the operations in OPERATIONS whole, minus prose and response examples;
* every component those operations and the EXAMPLES reach through `$ref`.

With --check it writes nothing and exits 1 when the committed file differs from what the
description gives (CI runs this whenever the full description is present).
"""

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/testkit/openapi/api.github.com.json"
DEFAULT_SOURCE = ROOT / "../shared/github-rest-api/api.github.com.json"

# The endpoints patcher calls and the fake serves, and the neighbours a change to either is
# likely to need next (comments, releases, tags, refs, the Git Data API).
OPERATIONS = {
    "/repos/{owner}/{repo}/pulls": ["get", "post"],
    "/repos/{owner}/{repo}/pulls/{pull_number}": ["get", "patch"],
    "/repos/{owner}/{repo}/pulls/{pull_number}/merge": ["get", "put"],
    "/repos/{owner}/{repo}/labels": ["get", "post"],
    "/repos/{owner}/{repo}/labels/{name}": ["get", "patch"],
    "/repos/{owner}/{repo}/issues": ["get", "post"],
    "/repos/{owner}/{repo}/issues/{issue_number}": ["get", "patch"],
    "/repos/{owner}/{repo}/issues/{issue_number}/labels": ["get", "post", "put"],
    "/repos/{owner}/{repo}/issues/{issue_number}/comments": ["get", "post"],
    "/repos/{owner}/{repo}/issues/comments/{comment_id}": ["get", "patch"],
    "/repos/{owner}/{repo}/dispatches": ["post"],
    "/repos/{owner}/{repo}/releases": ["get"],
    "/repos/{owner}/{repo}/releases/latest": ["get"],
    "/repos/{owner}/{repo}/releases/tags/{tag}": ["get"],
    "/repos/{owner}/{repo}/tags": ["get"],
    "/repos/{owner}/{repo}/git/ref/{ref}": ["get"],
    "/repos/{owner}/{repo}/git/refs": ["post"],
    "/repos/{owner}/{repo}/git/refs/{ref}": ["patch"],
    "/repos/{owner}/{repo}/git/blobs": ["post"],
    "/repos/{owner}/{repo}/git/trees": ["post"],
    "/repos/{owner}/{repo}/git/commits": ["post"],
    "/repos/{owner}/{repo}": ["get"],
}
# Named examples the fake starts its answers from (`Spec::example`).
EXAMPLES = ["pull-request", "issue", "label", "release"]
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Prose and SDK metadata: nothing the validator reads.
DROPPED_KEYS = ("description", "summary", "externalDocs", "x-github", "x-octokit", "tags")


def refs(node):
    """Every local `$ref` target under node, as (section, name) of components."""
    if isinstance(node, dict):
        target = node.get("$ref")
        if isinstance(target, str) and target.startswith("#/components/"):
            section, name = target[len("#/components/"):].split("/", 1)
            yield section, name
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def without_prose(op):
    """The operation without prose; media types lose their examples (answers are checked
    against schemas, never against examples)."""
    op = {k: v for k, v in op.items() if k not in DROPPED_KEYS}
    for response in op.get("responses", {}).values():
        for media in response.get("content", {}).values():
            media.pop("examples", None)
    return op


def paths(full):
    out = {}
    for template, item in full["paths"].items():
        keep = OPERATIONS.get(template, [])
        out[template] = {}
        for method, op in item.items():
            if method not in METHODS:
                continue
            if method in keep:
                out[template][method] = without_prose(op)
            else:
                out[template][method] = {"operationId": op["operationId"], "x-patcher-omitted": True}
    missing = [f"{m.upper()} {t}" for t, ms in OPERATIONS.items() for m in ms if m not in full["paths"].get(t, {})]
    if missing:
        sys.exit(f"not in the description: {', '.join(missing)}")
    return out


def components(full, roots):
    """The components reachable from roots, in the description's order."""
    seen, todo = set(), list(roots)
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        section, name = key
        todo.extend(refs(full["components"][section][name]))
    return {
        section: {name: value for name, value in entries.items() if (section, name) in seen}
        for section, entries in full["components"].items()
        if any(s == section for s, _ in seen)
    }


def subset(full):
    kept_paths = paths(full)
    roots = list(refs(kept_paths)) + [("examples", name) for name in EXAMPLES]
    return {
        "openapi": full["openapi"],
        "info": {
            **full["info"],
            "x-patcher-subset": "derived by scripts/github-openapi-subset.py; see README.md here",
        },
        "paths": kept_paths,
        "components": components(full, roots),
    }


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    source = pathlib.Path(args[0]) if args else DEFAULT_SOURCE
    full = json.loads(source.read_text(encoding="utf-8"))
    text = json.dumps(subset(full), indent=1, ensure_ascii=False) + "\n"
    if check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            sys.exit(f"{OUT.relative_to(ROOT)} is not what {source} gives: run {sys.argv[0]}")
        print(f"{OUT.relative_to(ROOT)} is current ({len(text)} bytes)")
        return
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(OUT)
    print(f"wrote {OUT.relative_to(ROOT)} ({len(text)} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])
