//! The report → promote round trip through the public API: dev's spec names a version, prod
//! later moves to exactly that version although a newer one has been released since.

use patcher::model::{Listed, Listings, Origin, ScanResult, Source, Usage, VersionForm};
use patcher::plan::{plan, Plan, Strategy, Versions, Wanted};
use patcher::spec::{from_json, from_plan, to_json};

fn source() -> Source {
    Source {
        id: "gruntwork-io/terraform-aws-messaging/sqs".into(),
        org: "gruntwork-io".into(),
        repo: "terraform-aws-messaging".into(),
        module: "sqs".into(),
        origin: Origin::Git {
            url: "https://github.com/gruntwork-io/terraform-aws-messaging.git".into(),
        },
        github_repo: Some("gruntwork-io/terraform-aws-messaging".into()),
    }
}

fn scan(env: &str, current: &str) -> ScanResult {
    let usage = |account: &str| Usage {
        file: format!("{env}-{account}/sqs/terragrunt.hcl").into(),
        line: 2,
        column: 80,
        span: 90..90 + current.len(),
        source: source().into(),
        current: current.into(),
        form: VersionForm::GitRef,
        pin_comment: None,
    };
    ScanResult {
        usages: vec![usage("account2"), usage("account1")],
        ..ScanResult::default()
    }
}

fn listings(tags: &[&str]) -> Listings {
    let mut listings = Listings::new();
    listings.insert(
        source().origin,
        Ok(tags.iter().map(|t| Listed::name(*t)).collect()),
    );
    listings
}

fn planned(scan: &ScanResult, listings: &Listings, wanted: Wanted) -> Plan {
    plan(&scan.usages, Versions::all(listings), &|_| Some(wanted)).unwrap()
}

#[test]
fn prod_moves_to_the_version_dev_tested() {
    let dev_scan = scan("dev", "v0.8.0");
    let at_report = listings(&["v0.8.0", "v0.8.1", "v0.8.2", "v0.9.0"]);
    let dev_plan = planned(&dev_scan, &at_report, Wanted::Strategy(Strategy::NextSafe));
    let spec = from_plan(
        &dev_plan,
        &["{*dev*}/**".into()],
        &[],
        Strategy::NextSafe,
        &dev_scan,
    );
    let json = to_json(&spec);
    let read = from_json(&json, "patcher-spec.json").unwrap();
    let dep = &read.dependencies[0];
    assert_eq!(dep.id, "gruntwork-io/terraform-aws-messaging/sqs");
    let promoted = dep.target_version.as_deref().unwrap();
    assert_eq!(promoted, "v0.8.2");

    // v0.8.3 appeared after dev was tested; prod must not skip ahead to it.
    let prod_scan = scan("prod", "v0.8.0");
    let now = listings(&["v0.8.0", "v0.8.1", "v0.8.2", "v0.8.3", "v0.9.0"]);
    let prod_plan = planned(&prod_scan, &now, Wanted::Strategy(Strategy::NextSafe));
    let prod_dep = &prod_plan.dependencies[0];
    assert_eq!(prod_dep.usages[0].target.as_deref(), Some("v0.8.3"));
    let exact = planned(&prod_scan, &now, Wanted::Exact(promoted));
    let moved = &exact.dependencies[0];
    let files: Vec<_> = moved
        .usages
        .iter()
        .map(|u| (u.usage.file.to_str().unwrap(), u.new_text.as_deref()))
        .collect();
    assert_eq!(
        files,
        [
            ("prod-account1/sqs/terragrunt.hcl", Some("v0.8.2")),
            ("prod-account2/sqs/terragrunt.hcl", Some("v0.8.2"))
        ]
    );
    assert!(!moved.is_breaking());
}
