//! Files: patcher never reads through, writes through or commits a symbolic link or a path
//! outside the repository; the commit holds exactly the regular files it changed.

use super::world::*;
use std::os::unix::fs::symlink;
use std::path::Path;

const README: &str = "dev/sqs/README-TO-COMPLETE-UPDATE.md";

/// A committed symbolic link at `path` (inside the checkout) pointing at `target`.
fn commit_link(w: &World, path: &str, target: &Path) {
    let link = w.infra().dir.join(path);
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    symlink(target, &link).unwrap();
    w.infra().commit_all("A link");
    w.infra().git(&["push", "--quiet", "origin", "main"]);
}

fn assert_still_a_link(path: &Path, target: &Path) {
    assert_eq!(
        std::fs::read_link(path).unwrap(),
        target,
        "{}",
        path.display()
    );
}

#[test]
fn readme_symlink_to_proc_self_environ_is_not_read_by_update_publish() {
    let w = dev_world();
    let environ = Path::new("/proc/self/environ");
    commit_link(&w, README, environ);
    let branch = "patcher/dev/sqs";
    let mut args = w.publish_args(branch, "main");
    args.extend(["--update-strategy", "next-breaking"]);
    let run = w.update_sqs(&args).ok();
    assert!(run.says("symbolic link"), "{}", run.text());
    assert_eq!(w.changed_on(branch), ["dev/sqs/terragrunt.hcl"]);
    assert_still_a_link(&w.infra().dir.join(README), environ);
    let pushed = testkit::git::run(&w.infra().origin, &["ls-tree", "-r", branch, README]);
    assert!(pushed.starts_with("120000 "), "still a link: {pushed}");
    w.assert_no_leak(&[&run]);
}

#[test]
fn readme_symlink_to_proc_self_environ_is_not_read_by_the_action() {
    let w = dev_world();
    let environ = Path::new("/proc/self/environ");
    commit_link(&w, README, environ);
    let ws = w.checkout("update");
    let run = w.breaking_dev_update(&ws);
    assert_still_a_link(&ws.join(README), environ);
    let branches = w.infra().origin_branches();
    let branch = branches.iter().find(|b| *b != "main").expect("pushed");
    assert_eq!(w.changed_on(branch), ["dev/sqs/terragrunt.hcl"]);
    w.assert_no_leak(&[&run]);
}

#[test]
fn symlinked_edited_file_outside_the_repository_is_left_untouched() {
    let w = world(&[("dev/vpc/main.tf", "# nothing here\n")]);
    let outside = w.root.path().join("outside.hcl");
    let before = sqs_unit("v1.0.0");
    std::fs::write(&outside, &before).unwrap();
    commit_link(&w, "dev/sqs/terragrunt.hcl", &outside);
    let branch = "patcher/dev/sqs";
    let run = w.update_sqs(&w.publish_args(branch, "main"));
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), before);
    assert_still_a_link(&w.infra().dir.join("dev/sqs/terragrunt.hcl"), &outside);
    assert_eq!(w.infra().origin_branches(), ["main"], "{}", run.text());
    assert!(w.server.pulls(REPO).is_empty());
    assert!(run.says("symbolic link"), "{}", run.text());
    w.assert_no_leak(&[&run]);
}

#[test]
fn symlinked_edited_file_inside_the_repository_is_skipped_with_a_warning() {
    let w = world(&[("shared/sqs.hcl", &sqs_unit("v1.0.0"))]);
    commit_link(
        &w,
        "dev/sqs/terragrunt.hcl",
        Path::new("../../shared/sqs.hcl"),
    );
    let run = w.update_sqs(&[]);
    assert_eq!(
        std::fs::read_to_string(w.infra().dir.join("shared/sqs.hcl")).unwrap(),
        sqs_unit("v1.0.0")
    );
    assert!(
        std::fs::symlink_metadata(w.infra().dir.join("dev/sqs/terragrunt.hcl"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        w.infra().git(&["status", "--porcelain"]),
        "",
        "{}",
        run.text()
    );
    assert!(run.says("symbolic link"), "{}", run.text());
    w.assert_no_leak(&[&run]);
}

#[test]
fn symlinked_spec_file_is_neither_written_nor_read() {
    let w = dev_world();
    let outside = w.root.path().join("victim.json");
    std::fs::write(&outside, "precious\n").unwrap();
    commit_link(&w, "spec.json", &outside);
    let run = w.cli(&[
        "report",
        ".",
        "--include-dirs",
        DEV,
        "--output-spec",
        "spec.json",
    ]);
    let run = run.failed();
    assert!(run.says("spec.json"), "{}", run.text());
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious\n");

    std::fs::write(&outside, "{\"Dependencies\": []}\n").unwrap();
    let run = w.update_sqs(&["--spec-file", "spec.json"]).failed();
    assert!(run.says("symbolic link"), "{}", run.text());
    assert_eq!(w.infra().git(&["status", "--porcelain"]), "");
    w.assert_no_leak(&[&run]);
}

#[test]
fn symlinked_config_file_is_not_read() {
    let w = dev_world();
    let outside = w.root.path().join("patcher.yml");
    std::fs::write(
        &outside,
        "environments:\n  - name: dev\n    include_dirs: ['{*dev*}/**']\n",
    )
    .unwrap();
    commit_link(&w, ".github/patcher.yml", &outside);
    let run = w
        .cli(&["report", ".", "--environment", "dev", "--output", "json"])
        .failed();
    assert!(run.says("patcher.yml"), "{}", run.text());
    assert!(run.says("symbolic link"), "{}", run.text());
    w.assert_no_leak(&[&run]);
}

#[test]
fn the_commit_holds_exactly_the_regular_files_patcher_changed() {
    let w = world(&[
        ("dev/sqs/terragrunt.hcl", &sqs_unit("v1.0.0")),
        ("dev/notes.txt", "tracked\n"),
    ]);
    std::fs::write(w.infra().dir.join("dev/untracked.txt"), "mine\n").unwrap();
    std::fs::write(w.infra().dir.join(".env"), format!("TOKEN={TOKEN}\n")).unwrap();
    let branch = "patcher/dev/sqs";
    let run = w.update_sqs(&w.publish_args(branch, "main")).ok();
    assert_eq!(w.changed_on(branch), ["dev/sqs/terragrunt.hcl"]);
    assert_eq!(
        std::fs::read_to_string(w.infra().dir.join("dev/untracked.txt")).unwrap(),
        "mine\n"
    );
    std::fs::remove_file(w.infra().dir.join(".env")).unwrap();
    w.assert_no_leak(&[&run]);
}
