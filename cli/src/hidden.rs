//! The one rule for hidden files, shared by `peercdn build` (what goes in
//! the manifest) and `peercdn serve` (what is served): a file is hidden if
//! any component of its path starting with `.`, and that holds for the
//! file a symlink resolves to as well as for the name it was reached by
//! (`public.txt -> .env` is as hidden as `.env`).

use std::path::{Component, Path};

/// Whether `canonical` (a resolved path) lies outside `root` (canonical
/// too) or is hidden inside it.
pub fn hidden_within(root: &Path, canonical: &Path) -> bool {
    match canonical.strip_prefix(root) {
        Ok(relative) => relative.components().any(|c| match c {
            Component::Normal(name) => name.as_encoded_bytes().starts_with(b"."),
            _ => true,
        }),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_components_and_outside_paths_are_hidden() {
        let root = Path::new("/srv/site");
        assert!(!hidden_within(root, Path::new("/srv/site/img/a.png")));
        assert!(hidden_within(root, Path::new("/srv/site/.env")));
        assert!(hidden_within(root, Path::new("/srv/site/.git/config")));
        assert!(hidden_within(root, Path::new("/srv/other/a.png")));
        // The root's own name does not count.
        assert!(!hidden_within(
            Path::new("/home/u/.sites/s"),
            Path::new("/home/u/.sites/s/a")
        ));
    }
}
