//! Publishing an update: the git side (branch from the base, commit, push over HTTPS with the
//! token kept out of every file and argument) and the GitHub side (pull request, labels,
//! release notes, repository dispatch).

pub mod git;
pub mod github;
pub mod refs;
