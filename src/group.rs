//! Groups (`groups:` in the environments file): dependencies whose updates travel together, one
//! pull request per group and environment, promoted as a whole.
//!
//! A group is one entry of the spec, and so one matrix job, with the ID `group-<name>`.
//! Dependency IDs always have an owner and a name (`org/repo…`, `namespace/name/provider`), so
//! an ID without `/` can only be a group's; and `group-<name>` is a valid branch suffix.

use crate::environments_file::{EnvironmentsFile, EnvironmentsFileError};
use crate::plan::{Strategy, Wanted};
use crate::spec::{Spec, SpecDependency};
use globset::GlobMatcher;
use serde::{Deserialize, Serialize};

const PREFIX: &str = "group-";

/// The ID of group `name` in the spec, the matrix, branches and payloads.
pub fn group_id(name: &str) -> String {
    format!("{PREFIX}{name}")
}

/// Whether `id` names a group rather than a dependency.
pub fn is_group_id(id: &str) -> bool {
    id.strip_prefix(PREFIX)
        .is_some_and(crate::environments_file::valid_name)
}

/// One member of a promoted group at the exact version the lower environment merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Dependency ID of the member.
    pub dependency: String,
    /// The version the member moves to, as merged in the lower environment.
    pub version: String,
}

/// The groups of the environments file, their globs compiled.
#[derive(Debug, Clone, Default)]
pub struct Groups {
    groups: Vec<Group>,
}

#[derive(Debug, Clone)]
struct Group {
    id: String,
    matchers: Vec<GlobMatcher>,
}

impl Groups {
    /// The groups of the environments file, checked: a bad glob names the file and the group.
    pub fn from_config(config: Option<&EnvironmentsFile>) -> Result<Groups, EnvironmentsFileError> {
        let Some(config) = config else {
            return Ok(Groups::default());
        };
        let group = |g: &crate::environments_file::GroupConfig| {
            let matchers = g.dependencies.iter().map(|glob| {
                crate::policy::id_glob(glob).map_err(|e| EnvironmentsFileError::Invalid {
                    file: config.file.clone(),
                    message: format!("groups: `{}`: dependency `{glob}`: {e}", g.name),
                })
            });
            Ok(Group {
                id: group_id(&g.name),
                matchers: matchers.collect::<Result<_, _>>()?,
            })
        };
        let groups = config.groups.iter().map(group).collect::<Result<_, _>>()?;
        Ok(Groups { groups })
    }

    fn names(&self) -> Vec<&str> {
        self.groups.iter().map(|g| g.id.as_str()).collect()
    }

    /// The group dependency `id` belongs to: the first, in the file's order, with a glob that
    /// matches it.
    pub fn group_of(&self, id: &str) -> Option<&str> {
        self.groups
            .iter()
            .find(|g| g.matchers.iter().any(|m| m.is_match(id)))
            .map(|g| g.id.as_str())
    }
}

/// What one run is asked to move: `dependency` (a dependency ID, a group ID, or none for all)
/// and the exact versions of a promotion (`version` for one dependency, `members` for a group).
#[derive(Clone, Copy)]
pub struct Ask<'a> {
    /// Dependency ID or group ID asked for; None: every dependency.
    pub dependency: Option<&'a str>,
    /// Exact version `dependency` moves to; None: the update strategy picks it.
    pub version: Option<&'a str>,
    /// A promoted group's members at their exact versions; empty outside a group promotion.
    pub members: &'a [Member],
    /// The environments file's groups, to tell which group a dependency belongs to.
    pub groups: &'a Groups,
}

impl<'a> Ask<'a> {
    /// An ask from its parts; [`Ask::check`] validates a group ask.
    pub fn new(
        dependency: Option<&'a str>,
        version: Option<&'a str>,
        members: &'a [Member],
        groups: &'a Groups,
    ) -> Ask<'a> {
        Ask {
            dependency,
            version,
            members,
            groups,
        }
    }

    /// The group asked for, if the run works on one.
    pub fn group(&self) -> Option<&str> {
        self.dependency.filter(|id| is_group_id(id))
    }

    /// Whether dependency `id` is one the run works on. A promoted group is exactly its members
    /// as dispatched; otherwise the environments file says which dependencies a group has.
    pub fn selects(&self, id: &str) -> bool {
        match (self.dependency, self.group()) {
            (None, _) => true,
            (Some(group), Some(_)) if self.members.is_empty() => {
                self.groups.group_of(id) == Some(group)
            }
            (Some(_), Some(_)) => self.members.iter().any(|m| m.dependency == id),
            (Some(asked), None) => asked == id,
        }
    }

    /// The exact version dependency `id` moves to, when a promotion names one.
    pub fn exact(&self, id: &str) -> Option<&'a str> {
        match self.dependency {
            Some(asked) if asked == id => self.version,
            _ => self
                .members
                .iter()
                .find(|m| m.dependency == id)
                .map(|m| m.version.as_str()),
        }
    }

    /// What dependency `id` is planned toward: the exact version a promotion names, else what
    /// `strategy` picks.
    pub fn wanted(&self, id: &str, strategy: Strategy) -> Wanted<'a> {
        self.exact(id)
            .map_or(Wanted::Strategy(strategy), Wanted::Exact)
    }

    /// A group asked for must be one of the environments file (a typo would otherwise update
    /// nothing and say only that nothing is used), and a dispatch may name only its members.
    pub fn check(&self) -> Result<(), GroupError> {
        let Some(id) = self.group() else {
            return Ok(());
        };
        if !self.groups.names().contains(&id) {
            return Err(GroupError::Unknown {
                id: id.to_string(),
                defined: self.groups.names().join(", "),
            });
        }
        match self
            .members
            .iter()
            .find(|m| self.groups.group_of(&m.dependency) != Some(id))
        {
            Some(stray) => Err(GroupError::NotAMember {
                id: id.to_string(),
                dependency: stray.dependency.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Whether the run moves to exact versions (a promotion), which is never deferred.
    pub fn is_promotion(&self) -> bool {
        self.version.is_some() || !self.members.is_empty()
    }

    /// Every group's members of `spec` moved into one entry, at the place of the first; a run
    /// asked for one dependency lists just that one.
    pub fn bundle(&self, spec: &mut Spec) {
        let mut bundled: Vec<SpecDependency> = Vec::new();
        for dep in std::mem::take(&mut spec.dependencies) {
            let group = match (self.dependency, self.group()) {
                (_, Some(group)) => Some(group),
                (None, None) => self.groups.group_of(&dep.id),
                (Some(_), None) => None,
            };
            let Some(group) = group else {
                bundled.push(dep);
                continue;
            };
            match bundled.iter_mut().find(|d| d.id == group) {
                Some(entry) => add_member(entry, dep),
                None => {
                    let mut entry = empty_entry(group);
                    add_member(&mut entry, dep);
                    bundled.push(entry);
                }
            }
        }
        spec.dependencies = bundled;
    }
}

/// Why a group ask is refused.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    /// The group ID asked for is not defined in the environments file.
    #[error("`{id}` is not a group of `groups:` in the environments file (defined: {defined})")]
    Unknown {
        /// The group ID asked for (`group-<name>`).
        id: String,
        /// The defined group IDs, comma-separated.
        defined: String,
    },
    /// A dispatched member does not belong to the group by the environments file's globs.
    #[error("`{dependency}` is not a member of `{id}` (`groups:` in the environments file)")]
    NotAMember {
        /// The group ID asked for.
        id: String,
        /// Dependency ID of the stray member.
        dependency: String,
    },
}

fn empty_entry(id: &str) -> SpecDependency {
    serde_json::from_value(serde_json::json!({ "ID": id, "UsageCount": 0 }))
        .expect("an ID alone is a spec dependency")
}

/// The group's entry says what a matrix job and `max_pull_requests` need: breaking when any
/// member is, and how many usages all members have.
fn add_member(entry: &mut SpecDependency, member: SpecDependency) {
    entry.breaking |= member.breaking;
    let count = member.usage_count.unwrap_or(member.usages.len());
    entry.usage_count = Some(entry.usage_count.unwrap_or(0) + count);
    entry.members.push(member);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn groups(text: &str) -> Result<Groups, EnvironmentsFileError> {
        let config = EnvironmentsFile::parse(text, Path::new(".github/patcher.yml"))?;
        Groups::from_config(Some(&config))
    }

    const TWO: &str = "groups:\n  - name: aws\n    dependencies: ['terraform-aws-modules/*']\n  - name: acme\n    dependencies: ['acme/*', 'terraform-aws-modules/vpc/*']\n";

    #[test]
    fn the_first_matching_group_wins() {
        let g = groups(TWO).unwrap();
        assert_eq!(
            g.group_of("terraform-aws-modules/vpc/aws"),
            Some("group-aws")
        );
        assert_eq!(g.group_of("acme/mods/sqs"), Some("group-acme"));
        assert_eq!(g.group_of("other/mods/sqs"), None);
        let err = groups("groups:\n  - name: aws\n    dependencies: ['acme/{x']\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(".github/patcher.yml") && err.contains("`aws`") && err.contains("acme/{x"),
            "{err}"
        );
    }

    #[test]
    fn the_sample_file_groups_registry_modules() {
        let g = groups(include_str!("../examples/patcher.yml")).unwrap();
        assert_eq!(
            g.group_of("terraform-aws-modules/vpc/aws"),
            Some("group-aws")
        );
    }

    #[test]
    fn group_ids_cannot_be_dependency_ids_and_are_branch_suffixes() {
        assert!(is_group_id("group-aws") && is_group_id("group-a_b-1"));
        for id in ["group-", "group-a/b", "acme/group-aws", "aws", "group-a b"] {
            assert!(!is_group_id(id), "{id}");
        }
        let branch = format!("patcher-dev-updates-{}", group_id("aws"));
        assert!(crate::publish::refs::check_branch("", &branch).is_ok());
        assert!(!crate::promote::valid_dependency_id("group-aws"));
    }

    fn entry(id: &str, breaking: bool) -> SpecDependency {
        let mut dep = empty_entry(id);
        dep.breaking = breaking;
        dep.usage_count = Some(2);
        dep
    }

    #[test]
    fn members_are_bundled_at_the_place_of_the_first() {
        let g = groups(TWO).unwrap();
        let mut spec = crate::spec::from_json(r#"{"Dependencies":[]}"#, "t").unwrap();
        spec.dependencies = vec![
            entry("acme/a/m", false),
            entry("other/x/m", false),
            entry("terraform-aws-modules/vpc/aws", true),
            entry("acme/b/m", false),
        ];
        let all = Ask {
            dependency: None,
            version: None,
            members: &[],
            groups: &g,
        };
        let mut bundled = spec.clone();
        all.bundle(&mut bundled);
        let ids: Vec<&str> = bundled.dependencies.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["group-acme", "other/x/m", "group-aws"]);
        let acme = &bundled.dependencies[0];
        let members: Vec<&str> = acme.members.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(members, ["acme/a/m", "acme/b/m"]);
        assert_eq!((acme.usage_count, acme.breaking), (Some(4), false));
        assert!(bundled.dependencies[2].breaking);
        assert_eq!(
            bundled.dependency("acme/b/m").map(|d| d.usage_count),
            Some(Some(2))
        );

        let one = Ask {
            dependency: Some("acme/a/m"),
            ..all
        };
        let mut single = spec.clone();
        one.bundle(&mut single);
        assert_eq!(single, spec);
    }

    #[test]
    fn a_promoted_group_is_exactly_its_dispatched_members() {
        let g = groups(TWO).unwrap();
        let members = [Member {
            dependency: "acme/a/m".into(),
            version: "v1.2.0".into(),
        }];
        let promoted = Ask {
            dependency: Some("group-acme"),
            version: None,
            members: &members,
            groups: &g,
        };
        assert!(promoted.selects("acme/a/m") && !promoted.selects("acme/b/m"));
        assert_eq!(promoted.exact("acme/a/m"), Some("v1.2.0"));
        assert!(promoted.is_promotion());
        promoted.check().unwrap();
        let stray = [Member {
            dependency: "other/x/m".into(),
            version: "v1.0.0".into(),
        }];
        let err = Ask {
            members: &stray,
            ..promoted
        };
        let err = err.check().unwrap_err().to_string();
        assert!(
            err.contains("`other/x/m` is not a member of `group-acme`"),
            "{err}"
        );
        let fresh = Ask {
            members: &[],
            ..promoted
        };
        assert!(fresh.selects("acme/b/m") && !fresh.selects("other/x/m"));
        assert_eq!(fresh.exact("acme/a/m"), None);
        fresh.check().unwrap();
        let typo = Ask {
            dependency: Some("group-acmee"),
            ..fresh
        };
        let err = typo.check().unwrap_err().to_string();
        assert!(err.contains("(defined: group-aws, group-acme)"), "{err}");
    }
}
