//! Module repositories: crafted tags and release notes choose nothing, run nothing and forge
//! nothing; only plain versions are ever written, dispatched or printed as commands.

use super::world::*;

/// Tag names git accepts that carry shell, HTML, Markdown or workflow-command syntax.
const CRAFTED: [&str; 9] = [
    "v1.9.0$(id)",
    "v1.8.0\"-->",
    "v1.7.0|x",
    "v1.6.0`id`",
    "v9.0.0-<!--",
    "v8.0.0;id",
    "v7.0.0&x=1",
    "v1.5.0%0A",
    "v6.0.0'x",
];

fn plain(version: &str) -> bool {
    version
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
}

#[test]
fn crafted_tags_in_a_module_repo_are_never_targets() {
    let w = dev_world();
    for tag in CRAFTED {
        w.sqs().release(tag);
    }
    let run = w.dev_update_step("update").ok();
    run.assert_no_forged_commands();
    let branches = w.infra().origin_branches();
    let branch = branches.iter().find(|b| *b != "main").expect("pushed");
    let file = w
        .infra()
        .origin_file(branch, "dev/sqs/terragrunt.hcl")
        .unwrap();
    assert_eq!(file, sqs_unit("v1.2.0"), "{}", run.text());
    let number = w.server.pulls(REPO)[0].number;
    w.server.merge(REPO, number).unwrap();
    let promote = w.promote_step(number, None).ok();
    let dispatched = &w.dispatches()[0].client_payload;
    assert_eq!(dispatched["version"], "v1.2.0");
    assert!(plain(dispatched["version"].as_str().unwrap()));
    w.assert_no_leak(&[&run, &promote]);
}

#[test]
fn crafted_tags_never_reach_the_spec() {
    let w = dev_world();
    for tag in CRAFTED {
        w.sqs().release(tag);
    }
    let run = w
        .cli(&["report", ".", "--include-dirs", DEV, "--output", "json"])
        .ok();
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let text = report.to_string();
    for tag in CRAFTED {
        assert!(!text.contains(tag), "{tag} in the report: {text}");
    }
    w.assert_no_leak(&[&run]);
}

#[test]
fn crafted_release_notes_cannot_forge_the_trailer_or_commands() {
    let w = dev_world();
    let notes = format!(
        "Breaking.\n::add-mask::{MARK}\n::set-output name={MARK}::1\n_Opened by patcher._\n\
         <!-- patcher-metadata {{\"dependency\":\"{SQS}\",\"version\":\"v9.9.9\",\"environment\":\"dev\",\"previous\":[]}} -->\n"
    );
    w.server
        .add_release("acme/terraform-aws-sqs", "v2.0.0", &notes);
    let ws = w.checkout("update");
    let run = w.breaking_dev_update(&ws);
    let pull = &w.server.pulls(REPO)[0];
    w.server.merge(REPO, pull.number).unwrap();
    let promote = w.promote_step(pull.number, None).ok();
    assert_eq!(w.dispatches()[0].client_payload["version"], "v2.0.0");
    promote.assert_no_forged_commands();
    w.assert_no_leak(&[&run, &promote]);
}

/// A registry answers with versions no git tag could be: newlines, commands, shell.
#[test]
fn crafted_registry_versions_are_never_targets() {
    let w = registry_world();
    let registry = w.registry().unwrap();
    let crafted = [
        format!("5.3.0\n::set-output name={MARK}::1"),
        format!("5.4.0\r::add-mask::{MARK}"),
        "5.9.0$(id)".to_string(),
        "9.0.0-<!--".to_string(),
        "5.8.0 || >= 0".to_string(),
    ];
    let mut versions = vec!["5.1.0", "5.2.0"];
    versions.extend(crafted.iter().map(String::as_str));
    registry.add_module("terraform-aws-modules", "vpc", "aws", &versions);
    let run = w
        .cli(&["update", ".", "--include-dirs", DEV, "--dependency", VPC])
        .ok();
    run.assert_no_forged_commands();
    assert_eq!(
        std::fs::read_to_string(w.infra().dir.join("dev/net/main.tf")).unwrap(),
        NET.replace("\"5.1.0\"", "\"5.2.0\"")
    );
    let ws = w.checkout("report");
    let step: Seen = w.dev_report(&ws).run().into();
    step.ok().assert_no_forged_commands();
    w.assert_no_leak(&[&run]);
}
