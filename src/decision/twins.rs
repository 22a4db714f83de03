//! Twins: open entries making the same change. Pure: shapes in, group ids out.
//!
//! - **Twins**: the same git patch id (the change `base..head`, whitespace-insensitive).
//! - **Near-twins**: the same set of changed files, and in at least one of them a hunk of one
//!   overlapping a hunk of the other (old-side line ranges, diffs without context lines; a pure
//!   insertion counts as the one line it follows). Two sessions fixing the same line differently
//!   are near-twins; two sessions editing different functions of one file are not.
//!
//! Groups are the connected components of "twin or near-twin"; an entry alone has no group.

use crate::git::Shape;

/// Do the two changes overlap in the sense above (or are they equal)?
pub fn related(a: &Shape, b: &Shape) -> bool {
    if a.patch_id == b.patch_id {
        return true;
    }
    if a.files.len() != b.files.len() || a.files.iter().zip(&b.files).any(|(x, y)| x.0 != y.0) {
        return false;
    }
    a.files
        .iter()
        .zip(&b.files)
        .any(|(x, y)| x.1.iter().any(|&h| y.1.iter().any(|&k| overlap(h, k))))
}

fn overlap((s1, n1): (u32, u32), (s2, n2): (u32, u32)) -> bool {
    let e1 = s1 + n1.max(1);
    let e2 = s2 + n2.max(1);
    s1 < e2 && s2 < e1
}

/// One group id per shape (same order), None for a change no other shares. The id is
/// `twin-<patch id of the group's first member, 10 hex>`: stable while that member waits.
pub fn groups(shapes: &[Option<Shape>]) -> Vec<Option<String>> {
    let n = shapes.len();
    let mut root: Vec<usize> = (0..n).collect();
    fn find(root: &mut [usize], mut i: usize) -> usize {
        while root[i] != i {
            root[i] = root[root[i]];
            i = root[i];
        }
        i
    }
    for i in 0..n {
        for j in i + 1..n {
            if let (Some(a), Some(b)) = (&shapes[i], &shapes[j])
                && related(a, b)
            {
                let (ri, rj) = (find(&mut root, i), find(&mut root, j));
                // The earlier entry becomes the root, so the id follows the oldest member.
                let (lo, hi) = (ri.min(rj), ri.max(rj));
                root[hi] = lo;
            }
        }
    }
    let roots: Vec<usize> = (0..n).map(|i| find(&mut root, i)).collect();
    (0..n)
        .map(|i| {
            let r = roots[i];
            let members = roots.iter().filter(|&&x| x == r).count();
            (members > 1)
                .then(|| shapes[r].as_ref())
                .flatten()
                .map(|s| format!("twin-{}", &s.patch_id.to_string()[..10]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::Oid;

    fn shape(id: u8, files: &[(&str, &[(u32, u32)])]) -> Option<Shape> {
        Some(Shape {
            patch_id: Oid::from_bytes(&[id; 20]).expect("oid"),
            files: files
                .iter()
                .map(|(f, h)| (f.to_string(), h.to_vec()))
                .collect(),
        })
    }

    #[test]
    fn same_patch_and_overlapping_hunks_group_others_do_not() {
        let shapes = vec![
            shape(1, &[("a.rs", &[(10, 2)])]),
            shape(2, &[("b.rs", &[(1, 1)])]),
            shape(1, &[("a.rs", &[(10, 2)])]), // the same patch
            shape(3, &[("a.rs", &[(11, 0)])]), // an insertion inside 10..12: near-twin
            shape(4, &[("a.rs", &[(40, 3)])]), // same file, elsewhere: not a twin
            shape(5, &[("b.rs", &[(1, 1)]), ("c.rs", &[(1, 1)])]), // more files: not a twin
            None,                              // unreadable: alone
        ];
        let g = groups(&shapes);
        let first = g[0].clone().expect("group");
        assert!(first.starts_with("twin-0101"), "{first}");
        assert_eq!(g[2].as_deref(), Some(first.as_str()));
        assert_eq!(g[3].as_deref(), Some(first.as_str()));
        assert_eq!(g[1], None);
        assert_eq!(g[4], None);
        assert_eq!(g[5], None);
        assert_eq!(g[6], None);
    }

    #[test]
    fn overlap_is_symmetric_and_strict_at_the_edges() {
        assert!(overlap((5, 3), (7, 1)));
        assert!(overlap((7, 1), (5, 3)));
        assert!(!overlap((5, 3), (8, 2)));
        assert!(overlap((5, 0), (5, 0)));
    }
}
