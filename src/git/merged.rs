//! The in-memory merge of two commits, computed once per process. The sweep (would an entry bring
//! nothing?), the train's trial merge and the approval itself each need merge(main, tip) of the
//! same two commits, and it is a pure function of them (brl always merges with libgit2's default
//! options): the result is kept — the last few, per repository — and reused while its tree is
//! still in the object store.

use std::path::PathBuf;
use std::sync::Mutex;

use git2::{Commit, Oid};

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
        let mut index = self.repo.merge_commits(ours, theirs, None).ctx(what)?;
        MADE.with(|m| m.set(m.get() + 1));
        let merged = if index.has_conflicts() {
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
}
