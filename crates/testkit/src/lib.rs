//! Real local peers for patcher's tests: bare git repositories with tags, a Terraform module
//! registry and a GitHub REST API server, all on 127.0.0.1.

pub mod git;
pub mod github;
pub mod graphql;
pub mod openapi;
pub mod registry;
pub mod registry_tree;
pub mod runner;
pub mod spec;
