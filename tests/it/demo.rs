//! `patcher demo` is the README's "see it work" command: it must walk the whole chain offline
//! and end with stage and prod on the version dev was tested with.

use crate::world::Run;
use std::process::Command;

#[test]
fn the_demo_walks_the_chain_and_promotes_the_tested_version() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("demo");
    let out = Command::new(crate::world::bin())
        .args(["demo", "--keep"])
        .arg(&keep)
        .env_remove("GIT_CONFIG_GLOBAL")
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap();
    let stdout = Run::of(out).ok().stdout;
    for line in [
        "dev    sqs  v1.1.0",
        "stage  sqs  v1.1.0",
        "prod   sqs  v1.1.0",
        "prod   vpc  v2.0.1",
        "prod is the last environment",
    ] {
        assert!(stdout.contains(line), "missing `{line}` in:\n{stdout}");
    }
    assert!(stdout.contains("A newer release appears"), "{stdout}");
    assert!(!stdout.contains("v1.2.0\n   "), "{stdout}");
    // The merges are real: origin's main holds prod's update.
    let shown = Command::new("git")
        .arg("-C")
        .arg(keep.join("infrastructure-live.git"))
        .args(["show", "main:prod/sqs/terragrunt.hcl"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&shown.stdout).contains("?ref=v1.1.0"));
}
