//! A unified patch → per-file line counts (pure), for `/diff`'s short summary.

/// (path, lines added, lines deleted), in the patch's order.
pub(super) fn summarize(patch: &str) -> Vec<(String, usize, usize)> {
    let mut files: Vec<(String, usize, usize)> = Vec::new();
    let mut in_header = false;
    for line in patch.lines() {
        if let Some(rest) = line.strip_prefix("diff --git ") {
            let path = rest.rsplit_once(" b/").map_or(rest, |(_, b)| b).to_string();
            files.push((path, 0, 0));
            in_header = true;
            continue;
        }
        if line.starts_with("@@") {
            in_header = false;
            continue;
        }
        if in_header {
            continue;
        }
        let Some(f) = files.last_mut() else { continue };
        if line.starts_with('+') {
            f.1 += 1;
        } else if line.starts_with('-') {
            f.2 += 1;
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_per_file_not_headers() {
        let patch = "diff --git a/f1.txt b/f1.txt\nindex 1..2 100644\n--- a/f1.txt\n+++ b/f1.txt\n@@ -1,3 +1,2 @@\n ok line\n-ERR one\n+++ added plus\n ERR two\ndiff --git a/new.md b/new.md\nnew file mode 100644\n--- /dev/null\n+++ b/new.md\n@@ -0,0 +1 @@\n+hello\n";
        assert_eq!(
            summarize(patch),
            vec![("f1.txt".into(), 1, 1), ("new.md".into(), 1, 0)]
        );
    }
}
