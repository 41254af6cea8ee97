//! What extraction may ask of the tree beyond the scanned file's bytes: Terragrunt's includes,
//! `read_terragrunt_config` and path functions reach other files and folders. Behind this trait
//! the extraction stages stay pure over bytes; the scan reads the disk through [`Disk`].

use std::io;
use std::path::Path;

/// The files and folders a scanned file may reach, by absolute path.
pub trait Tree: Sync {
    /// The bytes of the regular file at `path`; a symbolic link is refused, not followed.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Whether a file is at `path` (`find_in_parent_folders`).
    fn is_file(&self, path: &Path) -> bool;
    /// Whether anything is at `path` (`get_repo_root` looks for `.git`).
    fn exists(&self, path: &Path) -> bool;
}

/// The working tree on disk.
pub struct Disk;

impl Tree for Disk {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        crate::edit::read_regular(path)
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }
}
