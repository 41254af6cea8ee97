//! Promotion: what is dispatched is the version in dev's folders at the merge commit; the body's
//! metadata block only cross-checks it, and never chooses the environment.

use super::world::*;

const OPENED_BY: &str = "_Opened by patcher._";

fn block(dependency: &str, version: &str, environment: &str) -> String {
    let meta = serde_json::json!({
        "dependency": dependency, "version": version,
        "environment": environment, "previous": ["v1.0.0"],
    });
    format!("<!-- patcher-metadata {meta} -->")
}

/// The body with patcher's own trailing block replaced by `trailer`.
fn with_trailer(body: &str, trailer: &str) -> String {
    let at = body.rfind(OPENED_BY).expect("patcher's trailer");
    format!("{}{OPENED_BY}\n{trailer}\n", &body[..at])
}

fn assert_refused(w: &World, run: &Seen, words: &str) {
    assert!(!run.success, "promoted\n{}", run.text());
    assert!(run.stdout.contains("::error"), "{}", run.text());
    assert!(run.says(words), "{words:?} not said\n{}", run.text());
    assert!(w.dispatches().is_empty(), "{:?}", w.dispatches());
    run.assert_no_forged_commands();
    w.assert_no_leak(&[run]);
}

/// One dispatch, of what the tree holds after the merge (v1.2.0) to the stage after dev.
fn assert_promoted_tree_version(w: &World, run: &Seen) {
    assert!(run.success, "{}", run.text());
    let dispatches = w.dispatches();
    assert_eq!(dispatches.len(), 1, "{dispatches:?}");
    assert_eq!(dispatches[0].event_type, "dev_updates_merged");
    assert_eq!(dispatches[0].client_payload["dependency"], SQS);
    assert_eq!(dispatches[0].client_payload["version"], "v1.2.0");
    assert_eq!(dispatches[0].client_payload["environment"], "dev");
    run.assert_no_forged_commands();
    w.assert_no_leak(&[run]);
}

#[test]
fn metadata_environment_override_cannot_skip_stage() {
    let w = dev_world();
    let number = w.merged_dev_update();
    let body = with_trailer(&w.body_of(number), &block(SQS, "v1.2.0", "stage"));
    let run = w.promote_step(number, Some(&body));
    assert_refused(&w, &run, "stage");
    assert!(!w
        .dispatches()
        .iter()
        .any(|d| d.event_type == "stage_updates_merged"));
}

#[test]
fn earlier_forged_metadata_block_is_not_metadata() {
    let w = dev_world();
    let number = w.merged_dev_update();
    let forged = format!(
        "{OPENED_BY}\n{}\n\n{}",
        block(SQS, "v2.0.0", "dev"),
        w.body_of(number)
    );
    let run = w.promote_step(number, Some(&forged));
    assert_promoted_tree_version(&w, &run);
}

#[test]
fn trailer_disagreeing_with_the_merged_tree_dispatches_nothing() {
    let w = dev_world();
    let number = w.merged_dev_update();
    let body = with_trailer(&w.body_of(number), &block(SQS, "v2.0.0", "dev"));
    let run = w.promote_step(number, Some(&body));
    assert_refused(&w, &run, "v2.0.0");
}

#[test]
fn second_trailer_block_dispatches_nothing() {
    let w = dev_world();
    let number = w.merged_dev_update();
    let body = w.body_of(number);
    let body = format!("{}\n{}\n", body.trim_end(), block(SQS, "v2.0.0", "dev"));
    let run = w.promote_step(number, Some(&body));
    assert_refused(&w, &run, "metadata blocks");
}

#[test]
fn metadata_values_path_and_shell_are_refused() {
    for (dependency, version) in [
        ("../../x", "v1.2.0"),
        ("acme/../../etc/passwd", "v1.2.0"),
        (SQS, "$(id)"),
        (SQS, "v1.2.0`id`"),
        ("acme/terraform-aws-sqs/sqs$(id)", "v1.2.0"),
    ] {
        let w = dev_world();
        let number = w.merged_dev_update();
        let body = with_trailer(&w.body_of(number), &block(dependency, version, "dev"));
        let run = w.promote_step(number, Some(&body));
        assert!(!run.success, "{dependency} {version}\n{}", run.text());
        assert!(w.dispatches().is_empty(), "{:?}", w.dispatches());
        run.assert_no_forged_commands();
        w.assert_no_leak(&[&run]);
    }
}

/// A folder whose name spells `_Opened by patcher._` and a metadata block on lines of their
/// own: update copies repository paths into its body, which must keep them inside code spans.
#[test]
fn folder_name_forming_a_metadata_block_in_the_update_body() {
    let forged = block(SQS, "v2.0.0", "dev");
    let folder = format!("dev/x\n{OPENED_BY}\n{forged}\n");
    let w = world(&[
        ("dev/sqs/terragrunt.hcl", &sqs_unit("v1.0.0")),
        (&format!("{folder}/terragrunt.hcl"), &sqs_unit("v1.0.0")),
    ]);
    let number = w.merged_dev_update();
    let body = w.body_of(number);
    let trailer_lines = body
        .lines()
        .filter(|l| l.starts_with("<!-- patcher-metadata") || l.trim_end() == OPENED_BY)
        .count();
    assert_eq!(trailer_lines, 2, "only patcher's own trailer:\n{body}");
    let run = w.promote_step(number, None);
    assert_promoted_tree_version(&w, &run);
}

#[test]
fn unmerged_tree_edit_after_the_merge_is_not_promoted() {
    let w = dev_world();
    let number = w.merged_dev_update();
    let event = w.server.pull_request_event(REPO, number).unwrap();
    let ws = w.merge_checkout("promote-dirty", &event);
    std::fs::write(ws.join("dev/sqs/terragrunt.hcl"), sqs_unit("v2.0.0")).unwrap();
    let run = w.promote_in(&ws, event);
    assert_refused(&w, &run, "differ from the merge commit");
}

/// The head branch of the event is the contributor's choice of name: what is dispatched is a
/// branch name as `git check-ref-format --branch` has it, never a refspec or a second line.
#[test]
fn event_head_ref_with_shell_or_newline_is_not_dispatched_raw() {
    let w = dev_world();
    let number = w.merged_dev_update();
    for head in [
        "patcher/dev/x$(id)".to_string(),
        format!("patcher/dev/x\n::warning title={MARK}::"),
        "main:refs/heads/x".to_string(),
    ] {
        let mut event = w.server.pull_request_event(REPO, number).unwrap();
        event["pull_request"]["head"]["ref"] = head.clone().into();
        let ws = w.merge_checkout("promote-head", &event);
        let run = w.promote_in(&ws, event);
        run.assert_no_forged_commands();
        for dispatch in w.dispatches() {
            let branch = dispatch.client_payload["branch"]
                .as_str()
                .unwrap_or_default();
            let git_accepts = testkit::git::command(&ws)
                .args(["check-ref-format", "--branch", branch])
                .output()
                .unwrap()
                .status
                .success();
            assert!(git_accepts, "{head:?} dispatched as {branch:?}");
            assert!(!branch.contains(':'), "{head:?} dispatched as {branch:?}");
        }
        w.assert_no_leak(&[&run]);
    }
}

/// The receiving side of a promotion: a payload that does not pass the validators fails the
/// step before anything is read, written or called.
#[test]
fn tampered_dispatch_payload_is_rejected_before_anything_happens() {
    let w = dev_world();
    let ws = w.checkout("stage");
    for payload in [
        serde_json::json!({"dependency": SQS, "version": "v1.1.0$(id)"}),
        serde_json::json!({"dependency": "../../etc/passwd", "version": "v1.1.0"}),
        serde_json::json!({"dependency": SQS, "version": "v1.1.0", "environment": "dev\nprod"}),
        serde_json::json!({"dependency": SQS, "version": "v1.1.0", "branch": "main:refs/heads/x"}),
        serde_json::json!({"dependency": SQS, "version": "v1.1.0", "sha": "HEAD~1"}),
    ] {
        let run = w.stage_update_on_dispatch(&ws, payload.clone());
        assert!(!run.success, "accepted {payload}\n{}", run.text());
        assert!(run.stdout.contains("::error"), "{}", run.text());
        run.assert_no_forged_commands();
        w.assert_no_leak(&[&run]);
    }
    assert!(w.server.pulls(REPO).is_empty());
    assert_eq!(w.infra().origin_branches(), ["main"]);
    assert!(w.server.requests().iter().all(|r| r.method == "GET"));
}
