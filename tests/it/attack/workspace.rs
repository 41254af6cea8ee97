//! Workspace: in the action, `working_dir`, `spec_file` and `config_file` resolve (links
//! followed) inside `GITHUB_WORKSPACE`, else the step fails naming the input.

use super::world::*;
use std::path::Path;

/// A tree next to the workspace that an escaping path would reach.
fn outside(w: &World) -> std::path::PathBuf {
    let dir = w.root.path().join("checkouts/outside");
    std::fs::create_dir_all(dir.join("dev/sqs")).unwrap();
    std::fs::write(dir.join("dev/sqs/terragrunt.hcl"), sqs_unit("v1.0.0")).unwrap();
    std::fs::write(dir.join("x.json"), "{\"Dependencies\": []}\n").unwrap();
    std::fs::write(
        dir.join("x.yml"),
        "environments:\n  - name: dev\n    include_dirs: ['{*dev*}/**']\n",
    )
    .unwrap();
    dir
}

fn run_with(w: &World, ws: &Path, command: &str, input: &str, value: &str) -> Seen {
    w.step(ws)
        .input("patcher_command", command)
        .input("environment", "dev")
        .input("dependency", SQS)
        .input(input, value)
        .event("workflow_dispatch", serde_json::json!({"inputs": {}}))
        .run()
        .into()
}

fn assert_refused_naming(w: &World, run: &Seen, input: &str, outside: &Path) {
    assert!(!run.success, "accepted\n{}", run.text());
    assert!(run.stdout.contains("::error"), "{}", run.text());
    assert!(run.says(input), "{input} not named\n{}", run.text());
    assert_eq!(
        std::fs::read_to_string(outside.join("dev/sqs/terragrunt.hcl")).unwrap(),
        sqs_unit("v1.0.0")
    );
    assert_eq!(
        std::fs::read_to_string(outside.join("x.json")).unwrap(),
        "{\"Dependencies\": []}\n"
    );
    assert_eq!(w.infra().origin_branches(), ["main"]);
    assert!(w.server.pulls(REPO).is_empty());
    run.assert_no_forged_commands();
    w.assert_no_leak(&[run]);
}

#[test]
fn working_dir_dot_dot_outside_is_refused() {
    let w = dev_world();
    let ws = w.checkout("ws");
    let out = outside(&w);
    for command in ["report", "update"] {
        let run = run_with(&w, &ws, command, "working_dir", "../outside");
        assert_refused_naming(&w, &run, "working_dir", &out);
    }
}

#[test]
fn working_dir_absolute_outside_is_refused() {
    let w = dev_world();
    let ws = w.checkout("ws");
    let out = outside(&w);
    for value in [
        out.display().to_string(),
        "/".to_string(),
        "/proc/self".into(),
    ] {
        let run = run_with(&w, &ws, "update", "working_dir", &value);
        assert_refused_naming(&w, &run, "working_dir", &out);
    }
}

#[test]
fn working_dir_through_a_symlink_to_outside_is_refused() {
    let w = dev_world();
    let ws = w.checkout("ws");
    let out = outside(&w);
    std::os::unix::fs::symlink(&out, ws.join("infra")).unwrap();
    let run = run_with(&w, &ws, "update", "working_dir", "infra");
    assert_refused_naming(&w, &run, "working_dir", &out);
}

#[test]
fn spec_file_dot_dot_x_json_is_refused() {
    let w = dev_world();
    let ws = w.checkout("ws");
    let out = outside(&w);
    for command in ["report", "update"] {
        let run = run_with(&w, &ws, command, "spec_file", "../outside/x.json");
        assert_refused_naming(&w, &run, "spec_file", &out);
    }
    let absolute = out.join("x.json").display().to_string();
    let run = run_with(&w, &ws, "report", "spec_file", &absolute);
    assert_refused_naming(&w, &run, "spec_file", &out);
}

#[test]
fn config_file_outside_is_refused() {
    let w = dev_world();
    let ws = w.checkout("ws");
    let out = outside(&w);
    let absolute = out.join("x.yml").display().to_string();
    for value in ["../outside/x.yml", absolute.as_str()] {
        let run = run_with(&w, &ws, "report", "config_file", value);
        assert_refused_naming(&w, &run, "config_file", &out);
    }
    std::os::unix::fs::symlink(out.join("x.yml"), ws.join("linked.yml")).unwrap();
    let run = run_with(&w, &ws, "report", "config_file", "linked.yml");
    assert_refused_naming(&w, &run, "config_file", &out);
}

#[test]
fn paths_inside_the_workspace_still_work() {
    let w = dev_world();
    let ws = w.checkout("ws");
    let run = run_with(&w, &ws, "report", "spec_file", "spec.json").ok();
    assert!(ws.join("spec.json").is_file(), "{}", run.text());
    let run = run_with(&w, &ws, "report", "working_dir", "./dev/../").ok();
    w.assert_no_leak(&[&run]);
}
