//! patcher: keeps Terraform, OpenTofu and Terragrunt module versions current and promotes each
//! update through environments. The modules follow the data flow of DESIGN.md:
//! environment → scan → resolve → plan → spec (report), then edit → publish (update), promote.

#![warn(missing_docs)]

pub mod gitcmd;
pub mod http;
pub mod model;
pub mod redact;
pub mod text;

// scan stage
pub mod edit;
pub mod environment;
pub mod scan;
pub mod source;

// resolve / plan stage
pub mod plan;
pub mod resolve;
pub mod spec;
pub mod version;

// publish stage and runner contract
pub mod action;
pub mod publish;

// commands
pub mod breaking_readme;
pub mod cli;
pub mod cooldown;
pub mod demo;
pub mod environments_file;
pub mod group;
pub mod invocation;
pub mod policy;
pub mod promote;
pub mod pull_limit;
pub mod pull_request;
pub mod report;
pub mod status;
pub mod update;
