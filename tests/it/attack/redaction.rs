//! Redaction: error text from GitHub, registries and git never carries a credential, even when
//! the peer echoes the request's `Authorization` header or its environment back.

use super::world::*;
use testkit::github::Fault;

const PULLS: &str = "/repos/acme/infrastructure-live/pulls";

#[test]
fn api_error_echoing_authorization_is_redacted() {
    let basic = patcher::gitcmd::basic_credentials(TOKEN);
    let echo = format!(
        "you sent Authorization: token {TOKEN}; Authorization: Basic {basic}; bearer {TOKEN}; \
         https://x-access-token:{TOKEN}@github.com/{REPO}.git; access_token={TOKEN}"
    );
    for status in [401, 403, 404, 422] {
        let w = dev_world();
        w.server
            .inject(Fault::new("POST", PULLS, status).message(&echo));
        let run = w
            .update_sqs(&w.publish_args("patcher/dev/sqs", "main"))
            .failed();
        assert!(run.says("you sent") || run.says("token"), "{}", run.text());
        w.assert_no_leak(&[&run]);

        w.server
            .inject(Fault::new("POST", PULLS, status).message(&echo));
        let step = w.dev_update_step(&format!("update-{status}")).failed();
        assert!(step.stdout.contains("::error"), "{}", step.text());
        step.assert_no_forged_commands();
        w.assert_no_leak(&[&step]);
    }
}

#[test]
fn registry_error_echoing_authorization_is_redacted() {
    let w = registry_world();
    let registry = w.registry().unwrap();
    let path = testkit::registry::Registry::versions_path("terraform-aws-modules", "vpc", "aws");
    registry.fail_next(&path, 10, 400, None);
    let run = w.cli(&["report", ".", "--include-dirs", DEV]);
    assert!(run.says("HTTP 400"), "the error is shown\n{}", run.text());
    let sent = registry.requests();
    assert!(
        sent.iter()
            .any(|r| r.authorization.as_deref() == Some(&format!("Bearer {REGISTRY_TOKEN}"))),
        "the registry got the token, so it could echo it: {sent:?}"
    );
    w.assert_no_leak(&[&run]);

    registry.fail_next(&path, 10, 400, None);
    let ws = w.checkout("report");
    let step: Seen = w.dev_report(&ws).run().into();
    step.assert_no_forged_commands();
    w.assert_no_leak(&[&step]);
}

/// A hostile origin whose hook prints the pushing git's environment, where the token travels
/// as git configuration (`GIT_CONFIG_VALUE_n`).
#[test]
fn push_error_echoing_the_environment_is_redacted() {
    use std::os::unix::fs::PermissionsExt;
    let w = dev_world();
    let hook = w.infra().origin.join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho \"denied\" >&2\nenv >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = w
        .update_sqs(&w.publish_args("patcher/dev/sqs", "main"))
        .failed();
    assert!(
        run.says("denied"),
        "the hook's text is shown\n{}",
        run.text()
    );
    w.assert_no_leak(&[&run]);

    let step = w.dev_update_step("update").failed();
    assert!(step.says("denied"), "{}", step.text());
    step.assert_no_forged_commands();
    w.assert_no_leak(&[&step]);
}

#[test]
fn credentials_in_a_module_source_url_are_not_printed() {
    let secret = "hunter2ATTACKpassword";
    let unit = format!(
        "terraform {{\n  source = \"git::https://deploy:{secret}@github.com/acme/missing.git//x?ref=v1.0.0\"\n}}\n"
    );
    let w = world(&[("dev/x/terragrunt.hcl", &unit)]);
    let run = w.cli(&["report", ".", "--include-dirs", DEV]);
    assert!(!run.text().contains(secret), "{}", run.text());
    let ws = w.checkout("report");
    let step: Seen = w.dev_report(&ws).run().into();
    assert!(!step.text().contains(secret), "{}", step.text());
    w.assert_no_leak(&[&run, &step]);
}
