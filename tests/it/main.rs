//! patcher's integration tests, one binary: every module runs the real binary or the library
//! against real git repositories and servers on 127.0.0.1 (see the README's "Tests"). One
//! binary links once instead of once per file; modules share [`world`].

mod world;

mod action;
mod attack;
mod chain;
mod cooldown;
mod demo;
mod doors;
mod groups;
mod layouts;
mod policy;
mod publish;
mod report;
mod resolve;
mod scale;
mod scan_edit;
mod spec;
mod status;
mod update;
mod versions;
