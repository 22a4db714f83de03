//! The files that differ between two trees, found by descending only into directories whose tree
//! ids differ: a change of a few files in a large repository reads a few trees, where libgit2's
//! tree-to-tree diff loads and walks every entry of both.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use git2::{Repository, Tree};

use super::tree_update::{BLOB, Change};

const TREE: i32 = 0o040000;
/// A mode git still reads in old trees; the same as a plain file.
const GROUP_WRITABLE: i32 = 0o100664;

/// Every file (blob, symlink or submodule) whose id or mode differs between `a` and `b`, with
/// each side (None: absent there), in git's path order. No rename detection: a rename is a
/// deletion and an addition, as in `git diff --no-renames`.
pub(super) fn tree_changes(
    repo: &Repository,
    a: &Tree<'_>,
    b: &Tree<'_>,
) -> Result<Vec<Change>, git2::Error> {
    let mut out = Vec::new();
    walk(repo, Some(a), Some(b), Path::new(""), &mut out)?;
    out.sort_by(|x, y| x.path.as_os_str().cmp(y.path.as_os_str()));
    Ok(out)
}

fn walk(
    repo: &Repository,
    a: Option<&Tree<'_>>,
    b: Option<&Tree<'_>>,
    dir: &Path,
    out: &mut Vec<Change>,
) -> Result<(), git2::Error> {
    let mut names: Vec<Vec<u8>> = a
        .into_iter()
        .flat_map(|t| t.iter())
        .chain(b.into_iter().flat_map(|t| t.iter()))
        .map(|e| e.name_bytes().to_vec())
        .collect();
    names.sort();
    names.dedup();
    let entry = |t: Option<&Tree<'_>>, name: &[u8]| {
        t.and_then(|t| t.get_name_bytes(name))
            .map(|e| (e.id(), e.filemode()))
    };
    for name in names {
        let (ea, eb) = (entry(a, &name), entry(b, &name));
        if ea == eb {
            continue;
        }
        let path = dir.join(std::ffi::OsStr::from_bytes(&name));
        let tree = |e: Option<(git2::Oid, i32)>| -> Result<Option<Tree<'_>>, git2::Error> {
            match e {
                Some((id, TREE)) => repo.find_tree(id).map(Some),
                _ => Ok(None),
            }
        };
        let (ta, tb) = (tree(ea)?, tree(eb)?);
        if ta.is_some() || tb.is_some() {
            walk(repo, ta.as_ref(), tb.as_ref(), &path, out)?;
        }
        let file = |e: Option<(git2::Oid, i32)>| match e {
            Some((_, TREE)) | None => None,
            Some((id, GROUP_WRITABLE)) => Some((id, BLOB)),
            Some(e) => Some(e),
        };
        let (fa, fb) = (file(ea), file(eb));
        if fa != fb {
            out.push(Change {
                path,
                old: fa,
                new: fb,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{Fx, git, write};
    use super::*;

    /// The same files, sides and order as libgit2's tree diff (no renames), with a file that
    /// becomes a directory, a mode change, a symlink, a deletion of a whole directory.
    #[test]
    fn the_changes_are_libgit2s_tree_diff() {
        use std::os::unix::fs::PermissionsExt;
        let fx = Fx::new();
        let repo = fx.repo();
        write(&repo, "d", "d is a file\n");
        write(&repo, "gone/x.txt", "x\n");
        write(&repo, "gone/deep/y.txt", "y\n");
        write(&repo, "run.sh", "echo\n");
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "before"]);
        let before = git(&repo, &["rev-parse", "HEAD"]);
        std::fs::remove_file(repo.join("d")).unwrap();
        write(&repo, "d/inner.txt", "now a directory\n");
        std::fs::remove_dir_all(repo.join("gone")).unwrap();
        std::fs::set_permissions(repo.join("run.sh"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        std::os::unix::fs::symlink("a.txt", repo.join("link")).unwrap();
        write(&repo, "a.txt", "changed\n");
        write(&repo, "a-b.txt", "sorts between a.txt and a/\n");
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "after"]);
        let t = fx.target();
        let tree = |c: &str| {
            t.repo
                .find_commit(git2::Oid::from_str(c.trim()).unwrap())
                .unwrap()
                .tree()
                .unwrap()
        };
        let (a, b) = (tree(&before), tree(&git(&repo, &["rev-parse", "HEAD"])));
        let ours: Vec<_> = tree_changes(&t.repo, &a, &b)
            .unwrap()
            .into_iter()
            .map(|c| (c.path, c.old, c.new))
            .collect();
        let diff = t.repo.diff_tree_to_tree(Some(&a), Some(&b), None).unwrap();
        let side = |f: git2::DiffFile<'_>| f.exists().then(|| (f.id(), i32::from(f.mode())));
        let theirs: Vec<_> = diff
            .deltas()
            .map(|d| {
                let p = d.new_file().path().or(d.old_file().path()).unwrap();
                (p.to_path_buf(), side(d.old_file()), side(d.new_file()))
            })
            .collect();
        assert_eq!(ours, theirs);
        assert_eq!(ours.len(), 8, "{ours:?}");
        // The shape of a change diffs only these paths: the patch id of the whole diff.
        let mut opts = git2::DiffOptions::new();
        opts.context_lines(0);
        let whole = t
            .repo
            .diff_tree_to_tree(Some(&a), Some(&b), Some(&mut opts))
            .unwrap()
            .patchid(None)
            .unwrap();
        let shape = t
            .change_shape(
                before.trim(),
                git2::Oid::from_str(git(&repo, &["rev-parse", "HEAD"]).trim()).unwrap(),
            )
            .unwrap();
        assert_eq!(shape.patch_id, whole);
        assert_eq!(shape.files.len(), 8, "{:?}", shape.files);
    }
}
