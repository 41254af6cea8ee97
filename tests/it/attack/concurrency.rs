//! Concurrency: two `update --publish` runs in one checkout take turns on its lock, and a file
//! another process rewrites while patcher runs is never overwritten. The module registry on
//! 127.0.0.1 answers slowly, which holds the first run between its scan and its edits.

use super::world::*;
use std::time::{Duration, Instant};

/// Blocks until the registry has seen a request: the run has scanned and now resolves.
fn wait_for_resolve(w: &World) {
    let registry = w.registry().unwrap();
    let start = Instant::now();
    while registry.requests().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "patcher never resolved"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn update_args<'a>(w: &'a World, dependency: &'a str, branch: &'a str) -> Vec<&'a str> {
    let mut args = vec![
        "update",
        ".",
        "--include-dirs",
        DEV,
        "--dependency",
        dependency,
    ];
    args.extend(w.publish_args(branch, "main"));
    args
}

fn slow_registry_world() -> World {
    slow(registry_world())
}

fn slow(w: World) -> World {
    w.registry()
        .unwrap()
        .set_latency(Duration::from_millis(1500));
    w
}

#[test]
fn two_concurrent_update_publish_runs_take_turns_and_never_mix() {
    let w = slow_registry_world();
    let first = w.spawn(&update_args(&w, VPC, "patcher/dev/vpc"), &[]);
    wait_for_resolve(&w);
    let second = w.spawn(&update_args(&w, SG, "patcher/dev/sg"), &[]);
    let (first, second) = (World::finish(first).ok(), World::finish(second).ok());

    let vpc = w
        .infra()
        .origin_file("patcher/dev/vpc", "dev/net/main.tf")
        .unwrap();
    let sg = w
        .infra()
        .origin_file("patcher/dev/sg", "dev/net/main.tf")
        .unwrap();
    assert_eq!(vpc, NET.replace("\"5.1.0\"", "\"5.2.0\""));
    assert_eq!(sg, NET.replace("\"1.0.0\"", "\"1.5.0\""));
    let pulls = w.server.pulls(REPO);
    assert_eq!(pulls.len(), 2, "{pulls:?}");
    assert_eq!(w.infra().git(&["symbolic-ref", "--short", "HEAD"]), "main");
    assert_eq!(w.infra().git(&["status", "--porcelain"]), "");
    assert_eq!(
        std::fs::read_to_string(w.infra().dir.join("dev/net/main.tf")).unwrap(),
        NET
    );
    w.assert_no_leak(&[&first, &second]);
}

#[test]
fn a_second_run_that_may_not_wait_fails_clearly_on_the_lock() {
    let w = slow_registry_world();
    let first = w.spawn(&update_args(&w, VPC, "patcher/dev/vpc"), &[]);
    wait_for_resolve(&w);
    let second = w.spawn(
        &update_args(&w, SG, "patcher/dev/sg"),
        &[("PATCHER_LOCK_WAIT_SECS", "0")],
    );
    let second = World::finish(second).failed();
    let first = World::finish(first).ok();
    assert!(second.says("patcher.lock"), "{}", second.text());
    assert!(second.says("PATCHER_LOCK_WAIT_SECS"), "{}", second.text());
    assert_eq!(w.infra().origin_branches(), ["main", "patcher/dev/vpc"]);
    assert_eq!(w.server.pulls(REPO).len(), 1);
    assert_eq!(w.infra().git(&["status", "--porcelain"]), "");
    w.assert_no_leak(&[&first, &second]);
}

#[test]
fn file_rewritten_between_scan_and_rename_is_not_overwritten() {
    let w = slow_registry_world();
    let run = w.spawn(
        &["update", ".", "--include-dirs", DEV, "--dependency", VPC],
        &[],
    );
    wait_for_resolve(&w);
    let theirs = format!("# someone else's edit\n{NET}");
    std::fs::write(w.infra().dir.join("dev/net/main.tf"), &theirs).unwrap();
    let run = World::finish(run);
    assert_eq!(
        std::fs::read_to_string(w.infra().dir.join("dev/net/main.tf")).unwrap(),
        theirs
    );
    assert!(!run.success, "{}", run.text());
    assert!(run.says("net/main.tf"), "{}", run.text());
    assert!(run.says("changed"), "{}", run.text());
    w.assert_no_leak(&[&run]);
}

#[test]
fn a_change_elsewhere_in_the_file_while_update_runs_is_not_overwritten() {
    let w = slow_registry_world();
    let run = w.spawn(
        &["update", ".", "--include-dirs", DEV, "--dependency", VPC],
        &[],
    );
    wait_for_resolve(&w);
    let theirs = format!("{NET}# someone else's note\n");
    std::fs::write(w.infra().dir.join("dev/net/main.tf"), &theirs).unwrap();
    let run = World::finish(run).failed();
    assert_eq!(
        std::fs::read_to_string(w.infra().dir.join("dev/net/main.tf")).unwrap(),
        theirs
    );
    assert!(run.says("dev/net/main.tf"), "{}", run.text());
    assert!(run.says("changed since it was scanned"), "{}", run.text());
    w.assert_no_leak(&[&run]);
}

#[test]
fn file_rewritten_while_update_publish_runs_commits_nothing_of_the_dependency() {
    let w = slow(registry_world_of(&[
        ("dev/edge/main.tf", NET),
        ("dev/net/main.tf", NET),
    ]));
    let run = w.spawn(&update_args(&w, VPC, "patcher/dev/vpc"), &[]);
    wait_for_resolve(&w);
    let theirs = format!("{NET}# someone else's note\n");
    std::fs::write(w.infra().dir.join("dev/net/main.tf"), &theirs).unwrap();
    let run = World::finish(run).failed();

    assert!(run.says("dev/net/main.tf"), "{}", run.text());
    assert!(run.says("changed since it was scanned"), "{}", run.text());
    assert_eq!(w.infra().origin_branches(), ["main"]);
    assert!(w.server.pulls(REPO).is_empty());
    assert_eq!(w.infra().git(&["symbolic-ref", "--short", "HEAD"]), "main");
    let on_disk = |file: &str| std::fs::read_to_string(w.infra().dir.join(file)).unwrap();
    assert_eq!(on_disk("dev/edge/main.tf"), NET);
    assert_eq!(on_disk("dev/net/main.tf"), theirs);
    w.assert_no_leak(&[&run]);
}
