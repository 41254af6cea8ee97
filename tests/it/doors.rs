//! One request from both doors: the same environments file and the same choices, given as CLI
//! flags and as action inputs, open the same pull request (branch, title, labels, base) through
//! the real binary, a bare `origin` and the GitHub server. Each precedence rule of the README's
//! table is one case, run through both doors.

use crate::world::{self, Run, REPO};
use serde_json::json;
use testkit::git::terragrunt_unit;
use testkit::github::Pull;

const TOKEN: &str = "ghs_doorsTestToken0123456789abcdef";
const SQS: &str = "acme/terraform-aws-sqs/sqs";
const FILE: &str = "environments:
  - name: dev
    include_dirs: ['dev/**']
    labels: [team-dev-updates]
    branch_prefix: team-dev-
  - name: stage
    include_dirs: ['stage/**']
";

crate::world::module_world! {
    /// The shared world, where each door opens its pull request.
}

/// The environments file [`FILE`], and sqs at v1.0.0 in dev and stage.
fn world() -> World {
    let mut b = world::World::builder(TOKEN);
    b.module("terraform-aws-sqs", &["v1.0.0", "v1.1.0"]);
    let unit = terragrunt_unit("terraform-aws-sqs", "sqs", "v1.0.0");
    b.file(".github/patcher.yml", FILE)
        .file("dev/sqs/terragrunt.hcl", &unit)
        .file("stage/sqs/terragrunt.hcl", &unit);
    World(b.build())
}

/// What a user chooses, spelled once; each door translates it into its own flags or inputs.
#[derive(Default)]
struct Choice {
    environment: Option<&'static str>,
    branch: Option<&'static str>,
    title: Option<&'static str>,
    label: Option<&'static str>,
}

impl World {
    fn cli(&self, choice: &Choice) -> Pull {
        let mut args = vec!["update", ".", "--dependency", SQS, "--publish"];
        args.extend(["--repository", REPO, "--github-api-url", self.server.url()]);
        let flags = [
            ("--environment", choice.environment),
            ("--pr-branch", choice.branch),
            ("--pr-title", choice.title),
            ("--pr-label", choice.label),
        ];
        for (flag, value) in flags {
            if let Some(value) = value {
                args.extend([flag, value]);
            }
        }
        let output = self
            .command(&args)
            .env("GITHUB_TOKEN", TOKEN)
            .output()
            .unwrap();
        let run = Run::of(output);
        assert!(run.success, "patcher update failed: {}", run.stderr);
        self.only_pull()
    }

    fn action(&self, choice: &Choice) -> Pull {
        let mut step = self
            .step(self.dir())
            .input("patcher_command", "update")
            .input("dependency", SQS)
            .event(
                "workflow_dispatch",
                json!({"inputs": {}, "ref": "refs/heads/main"}),
            );
        let inputs = [
            ("environment", choice.environment),
            ("pull_request_branch", choice.branch),
            ("pull_request_title", choice.title),
            ("pull_request_labels", choice.label),
        ];
        for (name, value) in inputs {
            if let Some(value) = value {
                step = step.input(name, value);
            }
        }
        let run = step.run();
        assert!(
            run.success,
            "patcher action failed: {}{}",
            run.stdout, run.stderr
        );
        self.only_pull()
    }

    fn only_pull(&self) -> Pull {
        let mut pulls = self.server.pulls(REPO);
        assert_eq!(pulls.len(), 1, "one pull request");
        self.assert_no_violations();
        pulls.remove(0)
    }
}

/// Both doors, each in a world of its own, open this pull request.
fn both_doors(choice: Choice) -> (String, String, Vec<String>) {
    let cli = world().cli(&choice);
    let action = world().action(&choice);
    let seen = |p: &Pull| {
        (
            p.head.clone(),
            p.title.clone(),
            p.labels.clone(),
            p.base.clone(),
        )
    };
    assert_eq!(seen(&cli), seen(&action), "the doors disagree");
    assert_eq!(cli.base, "main");
    (cli.head, cli.title, cli.labels)
}

#[test]
fn the_environments_file_gives_branch_title_and_labels_through_both_doors() {
    let (branch, title, labels) = both_doors(Choice {
        environment: Some("dev"),
        ..Choice::default()
    });
    assert_eq!(branch, format!("team-dev-{SQS}"));
    assert_eq!(title, format!("[Patcher] [dev] Update {SQS}"));
    assert_eq!(labels, ["team-dev-updates"]);
}

#[test]
fn without_an_environment_both_doors_take_the_first_of_the_file() {
    let (branch, title, labels) = both_doors(Choice::default());
    assert_eq!(branch, format!("team-dev-{SQS}"));
    assert_eq!(title, format!("[Patcher] [dev] Update {SQS}"));
    assert_eq!(labels, ["team-dev-updates"]);
}

#[test]
fn given_branch_title_and_label_win_and_the_environment_labels_stay() {
    let (branch, title, labels) = both_doors(Choice {
        environment: Some("dev"),
        branch: Some("my/sqs-update"),
        title: Some("Bump sqs"),
        label: Some("needs-review"),
    });
    assert_eq!(branch, "my/sqs-update");
    assert_eq!(title, "Bump sqs");
    assert_eq!(labels, ["team-dev-updates", "needs-review"]);
}

#[test]
fn an_environment_without_labels_in_the_file_gets_its_default_label_and_prefix() {
    let (branch, title, labels) = both_doors(Choice {
        environment: Some("stage"),
        ..Choice::default()
    });
    assert_eq!(branch, format!("patcher-stage-updates-{SQS}"));
    assert_eq!(title, format!("[Patcher] [stage] Update {SQS}"));
    assert_eq!(labels, ["updates-stage"]);
}
