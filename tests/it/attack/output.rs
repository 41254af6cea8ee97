//! Output: no text from the tree, a pull request, an event or an input starts a workflow
//! command on stdout or stderr, in the action and in the CLI under `GITHUB_ACTIONS`.

use super::world::*;
use serde_json::json;

/// Commands an attacker would like the runner to run, each naming [`MARK`], with the ways to
/// start a line: `\n`, `\r`, leading blanks, `%0A` (decoded by the runner only inside commands).
fn payloads() -> Vec<String> {
    [
        format!("::set-output name={MARK}::1"),
        format!("::add-mask::{MARK}"),
        format!("::stop-commands::{MARK}"),
        format!("::warning title={MARK}::x"),
        format!("::error title={MARK}::x"),
        format!("::notice title={MARK}::x"),
        format!("::debug title={MARK}::x"),
        format!("::group::{MARK}"),
        format!("::save-state name={MARK}::1"),
        format!("##[set-output name={MARK};]1"),
    ]
    .iter()
    .flat_map(|c| {
        [
            format!("x\n{c}"),
            format!("x\r{c}"),
            format!("x\n   {c}"),
            format!("x%0A{c}"),
        ]
    })
    .collect()
}

/// A terragrunt unit whose source string (HCL escapes decoded) carries `payload` in its ref.
fn unit_with_source(payload: &str) -> String {
    let escaped = payload
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .replace('\r', "\\r");
    format!(
        "terraform {{\n  source = \"git::https://github.com/acme/terraform-aws-sqs.git//sqs?ref=v1.0.0{escaped}\"\n}}\n"
    )
}

/// The report step with the full spec in `spec.json`; that spec's text too.
fn report_step(w: &World) -> (Seen, String) {
    let ws = w.checkout("report");
    let run = w
        .dev_report(&ws)
        .input("spec_file", "spec.json")
        .run()
        .into();
    let spec = std::fs::read_to_string(ws.join("spec.json")).unwrap_or_default();
    (run, spec)
}

#[test]
fn module_source_with_newline_and_warning_in_the_report() {
    let files: Vec<(String, String)> = payloads()
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("dev/u{i}/terragrunt.hcl"), unit_with_source(p)))
        .chain([("dev/sqs/terragrunt.hcl".into(), sqs_unit("v1.0.0"))])
        .collect();
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let w = world(&files);
    let (step, spec) = report_step(&w);
    let step = step.ok();
    step.assert_no_forged_commands();
    assert!(spec.contains(MARK), "the sources reach the spec: {spec}");
    for output in ["table", "json"] {
        let cli = w.cli(&["report", ".", "--include-dirs", DEV, "--output", output]);
        cli.ok().assert_no_forged_commands();
    }
    w.assert_no_leak(&[&step]);
}

#[test]
fn folder_names_with_workflow_commands_in_annotations_and_tables() {
    let names = [
        format!("::warning title={MARK}::x"),
        format!("a\r::add-mask::{MARK}"),
        format!("b\n::set-output name={MARK}::1"),
        format!("c%0A::error title={MARK}::x"),
    ];
    let mut files = vec![("dev/sqs/terragrunt.hcl".to_string(), sqs_unit("v1.0.0"))];
    for name in &names {
        files.push((format!("dev/{name}/terragrunt.hcl"), sqs_unit("v1.0.0")));
        files.push((format!("dev/{name}/broken.tf"), "module \"x\" {\n".into()));
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let w = world(&files);
    let step = report_step(&w).0.ok();
    step.assert_no_forged_commands();
    assert!(step.stdout.contains("::warning file="), "{}", step.text());
    let update = w.dev_update_step("update").ok();
    update.assert_no_forged_commands();
    w.assert_no_leak(&[&step, &update]);
}

#[test]
fn invalid_utf8_in_a_folder_name_and_a_file() {
    use std::os::unix::ffi::OsStrExt;
    let w = dev_world();
    let name = std::ffi::OsStr::from_bytes(b"dev/\xff\xfe\n::warning title=PWNED::\xc3");
    let dir = w.infra().dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("main.tf"),
        b"module \"x\" {\n  source = \"\xff\n::error title=PWNED::\"\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join("terragrunt.hcl"), sqs_unit("v1.0.0")).unwrap();
    w.infra().commit_all("Bytes");
    w.infra().git(&["push", "--quiet", "origin", "main"]);
    let step = report_step(&w).0;
    step.assert_no_forged_commands();
    let cli = w.cli(&["report", ".", "--include-dirs", DEV]);
    cli.assert_no_forged_commands();
    w.assert_no_leak(&[&step, &cli]);
}

#[test]
fn pr_body_with_workflow_command_lines_at_promote() {
    let w = dev_world();
    let number = w.merged_dev_update();
    let body = w.body_of(number);
    let evil = payloads().join("\n");
    let before = w.promote_step(number, Some(&format!("{evil}\n{body}")));
    before.assert_no_forged_commands();
    let after = w.promote_step(number, Some(&format!("{body}\n{evil}")));
    after.assert_no_forged_commands();
    w.assert_no_leak(&[&before, &after]);
}

#[test]
fn bad_dependency_input_is_not_echoed_as_a_command() {
    let w = dev_world();
    let ws = w.checkout("update");
    for payload in payloads() {
        let run: Seen = w.dev_update(&ws).input("dependency", &payload).run().into();
        run.assert_no_forged_commands();
        w.assert_no_leak(&[&run]);
    }
    assert!(w.server.pulls(REPO).is_empty());
}

#[test]
fn dispatch_payload_fields_are_not_echoed_as_commands() {
    let w = dev_world();
    let ws = w.checkout("stage");
    for payload in payloads() {
        for client_payload in [
            json!({"dependency": SQS, "version": payload, "environment": "dev"}),
            json!({"dependency": payload, "version": "v1.1.0", "environment": "dev"}),
            json!({"dependency": SQS, "version": "v1.1.0", "environment": payload}),
        ] {
            let run = w.stage_update_on_dispatch(&ws, client_payload).failed();
            run.assert_no_forged_commands();
            w.assert_no_leak(&[&run]);
        }
    }
    assert!(w.server.pulls(REPO).is_empty());
    assert_eq!(w.infra().origin_branches(), ["main"]);
}

/// A hostile origin talks back through `remote:` lines, on a push it takes and on one it refuses.
#[test]
fn origin_hook_messages_with_workflow_commands() {
    use std::os::unix::fs::PermissionsExt;
    let evil = payloads().join("\n").replace('\'', "");
    for exit in [0, 1] {
        let w = dev_world();
        let hook = w.infra().origin.join("hooks/pre-receive");
        let script = format!("#!/bin/sh\nprintf '%s\\n' '{evil}' >&2\nexit {exit}\n");
        std::fs::write(&hook, script).unwrap();
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
        let step = w.dev_update_step("update");
        assert_eq!(step.success, exit == 0, "{}", step.text());
        step.assert_no_forged_commands();
        let cli = w.update_sqs(&w.publish_args("patcher/dev/sqs", "main"));
        cli.assert_no_forged_commands();
        w.assert_no_leak(&[&step, &cli]);
    }
}
