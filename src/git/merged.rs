//! The in-memory merge of two commits, computed once per process. The sweep (would an entry bring
//! nothing?), the train's trial merge and the approval itself each need merge(main, tip) of the
//! same two commits, and it is a pure function of them (brl always merges with libgit2's default
//! options): the result is kept — the last few, per repository — and reused while its tree is
//! still in the object store.
//!
//! And it is computed like git's merge-ort does first: tree by tree, from the one merge base,
//! descending only into directories both sides changed, so a merge of a few files in a large
//! repository reads a few trees, not every entry. Wherever a path was changed on both sides (even
//! identically: rename detection could pair it with another path) it gives up and libgit2's full
//! merge decides, so the result is always the one libgit2's merge gives.

use std::path::PathBuf;
use std::sync::Mutex;

use git2::{Commit, Oid, Tree};

use super::{Ctx, Result, Target};

/// A merge's result: the merged tree (written to the object store), or the conflicting files.
pub(super) type Merged = std::result::Result<Oid, Vec<String>>;

/// How many merges are kept (a train or a sweep of this many open entries reuses all of them).
const KEEP: usize = 64;

struct Memo {
    repo: PathBuf,
    ours: Oid,
    theirs: Oid,
    merged: Merged,
}

static MEMO: Mutex<Vec<Memo>> = Mutex::new(Vec::new());

thread_local! {
    static MADE: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many merges this thread computed (not taken from the kept ones): what a bench or a test
/// counts to see that an approval, a sweep or a train merges each pair of commits once.
pub fn merges_made() -> u64 {
    MADE.with(|m| m.get())
}

impl Target {
    /// The tree of merging `theirs` into `ours` (their merge base found by libgit2), or the files
    /// that conflict. No ref, no working tree; a new tree is written to the object store.
    pub(super) fn merged_tree(
        &self,
        ours: &Commit<'_>,
        theirs: &Commit<'_>,
        what: &dyn Fn() -> String,
    ) -> Result<Merged> {
        let repo = self.repo.commondir().to_path_buf();
        let (o, t) = (ours.id(), theirs.id());
        let same = |m: &Memo| m.ours == o && m.theirs == t && m.repo == repo;
        let kept = MEMO
            .lock()
            .ok()
            .and_then(|memo| memo.iter().find(|m| same(m)).map(|m| m.merged.clone()));
        // A tree no ref reaches may have been pruned (`git gc`) since: then merge again.
        if let Some(merged) = kept
            && merged
                .as_ref()
                .map_or(true, |tree| self.repo.find_tree(*tree).is_ok())
        {
            return Ok(merged);
        }
        MADE.with(|m| m.set(m.get() + 1));
        let merged = if let Some(tree) = self.trivial_merge(ours, theirs) {
            Ok(tree)
        } else {
            self.full_merge(ours, theirs, what)?
        };
        if let Ok(mut memo) = MEMO.lock() {
            memo.retain(|m| !same(m));
            if memo.len() >= KEEP {
                memo.remove(0);
            }
            memo.push(Memo {
                repo,
                ours: o,
                theirs: t,
                merged: merged.clone(),
            });
        }
        Ok(merged)
    }

    /// libgit2's merge of the two commits (renames detected), its tree written.
    fn full_merge(
        &self,
        ours: &Commit<'_>,
        theirs: &Commit<'_>,
        what: &dyn Fn() -> String,
    ) -> Result<Merged> {
        let mut index = self.repo.merge_commits(ours, theirs, None).ctx(what)?;
        Ok(if index.has_conflicts() {
            let mut files = Vec::new();
            for c in index.conflicts().ctx(what)? {
                let c = c.ctx(what)?;
                if let Some(e) = c.our.or(c.their).or(c.ancestor) {
                    let p = String::from_utf8_lossy(&e.path).into_owned();
                    if !files.contains(&p) {
                        files.push(p);
                    }
                }
            }
            Err(files)
        } else {
            Ok(index.write_tree_to(&self.repo).ctx(what)?)
        })
    }

    /// The merged tree when every path was changed on at most one side (None: anything else,
    /// or several merge bases, or an error — the full merge then decides).
    fn trivial_merge(&self, ours: &Commit<'_>, theirs: &Commit<'_>) -> Option<Oid> {
        let bases = self.repo.merge_bases(ours.id(), theirs.id()).ok()?;
        let [base] = bases.iter().copied().collect::<Vec<_>>()[..] else {
            return None;
        };
        let base = self.repo.find_commit(base).ok()?.tree().ok()?;
        let (o, t) = (ours.tree().ok()?, theirs.tree().ok()?);
        self.trivial_trees(&base, &o, &t).ok().flatten()
    }

    /// One directory of [`Self::trivial_merge`]: ours, with theirs' changes where ours kept the
    /// base's entry, recursing where both changed a directory.
    fn trivial_trees(
        &self,
        base: &Tree<'_>,
        ours: &Tree<'_>,
        theirs: &Tree<'_>,
    ) -> std::result::Result<Option<Oid>, git2::Error> {
        let entry = |tree: &Tree<'_>, name: &[u8]| {
            tree.get_name_bytes(name).map(|e| (e.id(), e.filemode()))
        };
        let mut names: Vec<Vec<u8>> = base
            .iter()
            .chain(theirs.iter())
            .map(|e| e.name_bytes().to_vec())
            .collect();
        names.sort();
        names.dedup();
        let mut out = self.repo.treebuilder(Some(ours))?;
        for name in names {
            let (b, o, t) = (entry(base, &name), entry(ours, &name), entry(theirs, &name));
            if o == t {
                if o == b {
                    continue;
                }
                return Ok(None); // the same change on both sides
            }
            if t == b {
                continue; // only ours changed it: it is in `out` already
            }
            if o == b {
                match t {
                    Some((id, mode)) => {
                        out.insert(&name, id, mode)?;
                    }
                    None => out.remove(&name)?,
                }
                continue;
            }
            let dir = |e: Option<(Oid, i32)>| {
                e.filter(|(_, mode)| *mode == i32::from(git2::FileMode::Tree))
                    .and_then(|(id, _)| self.repo.find_tree(id).ok())
            };
            let (Some(bt), Some(ot), Some(tt)) = (dir(b), dir(o), dir(t)) else {
                return Ok(None); // a file changed on both sides
            };
            match self.trivial_trees(&bt, &ot, &tt)? {
                Some(id) => out.insert(&name, id, i32::from(git2::FileMode::Tree))?,
                None => return Ok(None),
            };
        }
        out.write().map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{Fx, git, write};
    use super::*;

    /// The same two commits merge once; a pruned tree is merged again; a conflict is kept too.
    #[test]
    fn a_merge_is_made_once_and_again_when_its_tree_is_gone() {
        let fx = Fx::new();
        let repo = fx.repo();
        let t = fx.target();
        let (branch, _) = fx.session(&t, "mm", &[("a.txt", "one\nTWO\nthree\n")]);
        write(&repo, "user.txt", "user\n");
        git(&repo, &["add", "user.txt"]);
        git(&repo, &["commit", "-q", "-m", "user work"]);
        let main = t.repo.find_commit(t.main_commit().unwrap()).unwrap();
        let tip = t.repo.find_commit(t.branch_tip(&branch).unwrap()).unwrap();
        let what = || "test".to_string();
        let made = merges_made();
        let tree = t.merged_tree(&main, &tip, &what).unwrap().unwrap();
        assert_eq!(merges_made(), made + 1);
        assert_eq!(t.merged_tree(&main, &tip, &what).unwrap(), Ok(tree));
        assert_eq!(merges_made(), made + 1, "the second time is the kept one");
        // Pruned (nothing references it): merged again, the same tree (a fresh handle, as each
        // decision opens the repository anew).
        git(&repo, &["gc", "-q", "--prune=now"]);
        let t = fx.target();
        assert!(t.repo.find_tree(tree).is_err(), "the tree was pruned");
        let main = t.repo.find_commit(main.id()).unwrap();
        let tip = t.repo.find_commit(tip.id()).unwrap();
        assert_eq!(t.merged_tree(&main, &tip, &what).unwrap(), Ok(tree));
        assert_eq!(merges_made(), made + 2);
        assert!(t.repo.find_tree(tree).is_ok());
        // Both sides change a.txt's line: a conflict, named, and the same the second time.
        let (other, _) = fx.session(&t, "mc", &[("a.txt", "one\nDEUX\nthree\n")]);
        let theirs = t.repo.find_commit(t.branch_tip(&other).unwrap()).unwrap();
        let c = t.merged_tree(&tip, &theirs, &what).unwrap();
        assert_eq!(c, Err(vec!["a.txt".to_string()]));
        assert_eq!(t.merged_tree(&tip, &theirs, &what).unwrap(), c);
        assert_eq!(merges_made(), made + 3);
    }

    /// Two branches from main's first commit, each made by `change` in the checked-out repo.
    fn pair(
        repo: &std::path::Path,
        n: usize,
        ours: &dyn Fn(&std::path::Path),
        theirs: &dyn Fn(&std::path::Path),
    ) -> (String, String) {
        let names = (format!("ours{n}"), format!("theirs{n}"));
        for (name, change) in [(&names.0, ours), (&names.1, theirs)] {
            git(repo, &["checkout", "-q", "-b", name, "main"]);
            change(repo);
            git(repo, &["add", "-A"]);
            git(repo, &["commit", "-q", "-m", name]);
        }
        git(repo, &["checkout", "-q", "main"]);
        names
    }

    /// The tree-by-tree merge gives libgit2's own result, or leaves it to libgit2.
    #[test]
    fn the_tree_by_tree_merge_is_libgit2s_or_gives_up() {
        let fx = Fx::new();
        let repo = fx.repo();
        let rm = |p: &str| std::fs::remove_file(repo.join(p)).unwrap();
        let cases: Vec<(String, String, bool)> = vec![
            {
                // Different directories and files on each side, additions and a deletion.
                let (o, t) = pair(
                    &repo,
                    1,
                    &|r| {
                        write(r, "a.txt", "one\ntwo\nthree\nfour\n");
                        write(r, "e/y.txt", "y\n");
                    },
                    &|r| {
                        write(r, "src/lib.txt", "lib 2\n");
                        write(r, "d/deep/x.txt", "x\n");
                        std::fs::remove_file(r.join(".gitignore")).unwrap();
                    },
                );
                (o, t, true)
            },
            {
                // The same directory changed on both sides, in different files.
                let (o, t) = pair(&repo, 2, &|r| write(r, "src/other.txt", "other\n"), &|r| {
                    rm("src/lib.txt");
                    write(r, "src/third.txt", "third\n");
                });
                (o, t, true)
            },
            {
                // One file changed on both sides (a clean content merge): libgit2's.
                let (o, t) = pair(
                    &repo,
                    3,
                    &|r| write(r, "a.txt", "ONE\ntwo\nthree\n"),
                    &|r| write(r, "a.txt", "one\ntwo\nTHREE\n"),
                );
                (o, t, false)
            },
            {
                // Renamed on one side, deleted on the other: libgit2 calls it a conflict.
                let (o, t) = pair(
                    &repo,
                    4,
                    &|r| {
                        let text = std::fs::read_to_string(r.join("a.txt")).unwrap();
                        rm("a.txt");
                        write(r, "b.txt", &text);
                    },
                    &|_| rm("a.txt"),
                );
                (o, t, false)
            },
        ];
        let t = fx.target();
        let what = || "test".to_string();
        for (o, th, trivial) in cases {
            let ours = t.repo.find_commit(t.branch_tip(&o).unwrap()).unwrap();
            let theirs = t.repo.find_commit(t.branch_tip(&th).unwrap()).unwrap();
            let quick = t.trivial_merge(&ours, &theirs);
            assert_eq!(quick.is_some(), trivial, "{o} {th}");
            let full = t.full_merge(&ours, &theirs, &what).unwrap();
            if let Some(q) = quick {
                assert_eq!(Ok(q), full, "{o} {th}: the same tree as libgit2's merge");
            }
            assert_eq!(
                t.merged_tree(&ours, &theirs, &what).unwrap(),
                full,
                "{o} {th}"
            );
        }
    }
}
