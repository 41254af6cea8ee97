//! Refs: branch and base names are branch names (not refspecs, not options), and the update
//! branch is never the base or the default branch.

use super::world::*;

/// Nothing moved on origin: main where it was, no other branch, no pull request.
fn assert_origin_untouched(w: &World, main: &str, run: &Seen) {
    assert!(!run.success, "accepted\n{}", run.text());
    assert_eq!(w.origin_sha("main"), main, "main moved\n{}", run.text());
    assert_eq!(w.infra().origin_branches(), ["main"], "{}", run.text());
    assert!(w.server.pulls(REPO).is_empty());
    assert_eq!(w.infra().git(&["status", "--porcelain"]), "");
    w.assert_no_leak(&[run]);
}

#[test]
fn pr_branch_main_never_pushes_to_the_base_branch() {
    let w = dev_world();
    let main = w.origin_sha("main");
    let run = w.update_sqs(&w.publish_args("main", "main"));
    assert!(run.says("main"), "{}", run.text());
    assert_origin_untouched(&w, &main, &run);
}

#[test]
fn pr_branch_equal_to_the_default_branch_with_another_base() {
    let w = dev_world();
    w.infra()
        .git(&["push", "--quiet", "origin", "main:refs/heads/release"]);
    let main = w.origin_sha("main");
    let run = w.update_sqs(&w.publish_args("main", "release"));
    assert!(!run.success, "{}", run.text());
    assert!(run.says("default"), "{}", run.text());
    assert_eq!(w.origin_sha("main"), main);
    assert_eq!(w.infra().origin_branches(), ["main", "release"]);
    assert!(w.server.pulls(REPO).is_empty());
    w.assert_no_leak(&[&run]);
}

#[test]
fn base_refspec_main_colon_refs_heads_x_is_refused() {
    let w = dev_world();
    let main = w.origin_sha("main");
    let run = w.update_sqs(&w.publish_args("patcher/dev/sqs", "main:refs/heads/x"));
    assert!(run.says("base"), "{}", run.text());
    assert_origin_untouched(&w, &main, &run);
}

#[test]
fn branch_names_that_are_refspecs_options_or_refs_are_refused() {
    let w = dev_world();
    let main = w.origin_sha("main");
    for branch in [
        "+main",
        "patcher:main",
        "refs/heads/main",
        "HEAD",
        "-delete",
        "--force",
        "a..b",
        "a b",
        "x/.lock",
        "x.lock",
        "@",
        "a@{1}",
        "a\\b",
        "a~1",
        "a^",
        "a?",
        "a*",
        "a[b",
        "/a",
        "a/",
        "a//b",
        "a\nb",
        "",
    ] {
        let run = w.update_sqs(&w.publish_args(branch, "main"));
        assert_origin_untouched(&w, &main, &run);
        let run = w.update_sqs(&w.publish_args("patcher/dev/sqs", branch));
        assert_origin_untouched(&w, &main, &run);
    }
}

#[test]
fn pull_request_branch_input_main_in_the_action() {
    let w = dev_world();
    let main = w.origin_sha("main");
    let ws = w.checkout("update");
    for (branch, base) in [("main", ""), ("patcher/x", "main:refs/heads/x")] {
        let run: Seen = w
            .dev_update(&ws)
            .input("pull_request_branch", branch)
            .input("base_branch", base)
            .run()
            .into();
        assert!(run.stdout.contains("::error"), "{}", run.text());
        run.assert_no_forged_commands();
        assert_eq!(w.origin_sha("main"), main);
        assert_eq!(w.infra().origin_branches(), ["main"], "{}", run.text());
        w.assert_no_leak(&[&run]);
    }
    assert!(w.server.pulls(REPO).is_empty());
}
