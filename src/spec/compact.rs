//! The compact spec: the form of the spec that fits in a step output whatever the size of the
//! tree. It names the dependencies a run works on and their targets; usages, skipped sources
//! and errors stay in the full spec (`spec_file`), since `update` scans its environment again.

use super::{Spec, SpecDependency};

/// `spec` reduced to the dependencies `listed`, in that order, each without its usages.
pub fn compact(spec: &Spec, listed: &[String]) -> Spec {
    Spec {
        include_dir_pattern: spec.include_dir_pattern.clone(),
        exclude_dir_pattern: spec.exclude_dir_pattern.clone(),
        update_strategy: spec.update_strategy,
        dependencies: listed
            .iter()
            .filter_map(|id| spec.dependency(id))
            .map(without_usages)
            .collect(),
        skipped: Vec::new(),
        errors: Vec::new(),
        deferred: Vec::new(),
        notes: Vec::new(),
        compact: true,
    }
}

fn without_usages(dep: &SpecDependency) -> SpecDependency {
    SpecDependency {
        id: dep.id.clone(),
        org: dep.org.clone(),
        repo: dep.repo.clone(),
        module: dep.module.clone(),
        constraints: dep.constraints.clone(),
        target_safe_version: dep.target_safe_version.clone(),
        target_breaking_version: dep.target_breaking_version.clone(),
        target_version: dep.target_version.clone(),
        current_versions: dep.current_versions.clone(),
        latest_version: dep.latest_version.clone(),
        breaking: dep.breaking,
        next_breaking_version: dep.next_breaking_version.clone(),
        release_notes_url: dep.release_notes_url.clone(),
        source_kind: dep.source_kind,
        repository_url: dep.repository_url.clone(),
        registry_address: dep.registry_address.clone(),
        usages: Vec::new(),
        usage_count: dep.usage_count.or(Some(dep.usages.len())),
        members: dep.members.iter().map(without_usages).collect(),
    }
}

/// One line of JSON, `'` written as `\u0027` as in [`super::to_json`].
pub fn to_compact_json(spec: &Spec) -> String {
    serde_json::to_string(spec)
        .expect("a spec serialises: every key is a string and paths are written lossily")
        .replace('\'', "\\u0027")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{from_json, SpecUsage};

    fn dep(id: &str, usages: usize) -> SpecDependency {
        let usage = SpecUsage {
            file: "dev/a/main.tf".into(),
            line: 1,
            current_version: "v1.0.0".into(),
            target_version: Some("v1.1.0".into()),
            target_safe_version: Some("v1.1.0".into()),
            target_breaking_version: None,
            breaking: false,
            note: None,
        };
        let text =
            format!(r#"{{"ID":"{id}","TargetSafeVersion":"v1.1.0","TargetVersion":"v1.1.0"}}"#);
        let mut dep: SpecDependency = serde_json::from_str(&text).unwrap();
        dep.usages = vec![usage; usages];
        dep
    }

    #[test]
    fn keeps_the_listed_dependencies_in_order_without_usages() {
        let mut spec = from_json(r#"{"Dependencies":[]}"#, "t").unwrap();
        spec.dependencies = vec![dep("a/b/c", 3), dep("o'k/x/y", 2), dep("d/e/f", 1)];
        spec.deferred = vec!["d/e/f".into()];
        let small = compact(&spec, &["o'k/x/y".into(), "a/b/c".into()]);
        let ids: Vec<&str> = small.dependencies.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["o'k/x/y", "a/b/c"]);
        assert!(small.dependencies.iter().all(|d| d.usages.is_empty()));
        assert_eq!(small.dependencies[1].usage_count, Some(3));
        assert!(small.compact && small.deferred.is_empty());
        let json = to_compact_json(&small);
        assert!(!json.contains('\'') && !json.contains('\n'), "{json}");
        assert!(!json.contains("\"Usages\""), "{json}");
        let back = from_json(&json, "output").unwrap();
        assert_eq!(back, small);
    }
}
