//! Reading one word of sh: quotes, escapes, `$…` and backticks; and finding where a `$( … )`
//! ends.

use super::Parser;

impl Parser {
    /// Read one word, removing quotes; returns it and whether any part was quoted.
    pub(super) fn read_word(&mut self) -> (String, bool) {
        let mut w = String::new();
        let mut quoted = false;
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '(' | ')' => break,
                '<' | '>' if self.peek(1) == Some('(') => {
                    let inner = self.take_parens(self.i + 2);
                    w.push_str(&format!("{c}({inner})"));
                    self.cur.subs.push(inner);
                }
                '<' | '>' => break,
                '\\' => {
                    match self.peek(1) {
                        Some('\n') => {}
                        Some(n) => {
                            w.push(n);
                            quoted = true;
                        }
                        None => {}
                    }
                    self.i += 2;
                }
                '\'' => {
                    quoted = true;
                    self.i += 1;
                    while let Some(c) = self.peek(0) {
                        self.i += 1;
                        if c == '\'' {
                            break;
                        }
                        w.push(c);
                    }
                }
                '"' => {
                    quoted = true;
                    self.i += 1;
                    self.double_quoted(&mut w);
                }
                '$' => self.dollar(&mut w),
                '`' => self.backtick(&mut w),
                _ => {
                    w.push(c);
                    self.i += 1;
                }
            }
        }
        (w, quoted)
    }

    /// The rest of a `"…"` string (the opening quote consumed).
    fn double_quoted(&mut self, w: &mut String) {
        while let Some(c) = self.peek(0) {
            match c {
                '"' => {
                    self.i += 1;
                    return;
                }
                '\\' => {
                    match self.peek(1) {
                        Some('\n') => {}
                        Some(n @ ('"' | '\\' | '$' | '`')) => w.push(n),
                        Some(n) => {
                            w.push('\\');
                            w.push(n);
                        }
                        None => {}
                    }
                    self.i += 2;
                }
                '$' => self.dollar(w),
                '`' => self.backtick(w),
                _ => {
                    w.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// `$(…)`, `$((…))`, `${…}`, `$'…'` or a plain `$`; appended as written.
    fn dollar(&mut self, w: &mut String) {
        match self.peek(1) {
            Some('(') => {
                let inner = self.take_parens(self.i + 2);
                w.push_str(&format!("$({inner})"));
                self.cur.subs.push(inner);
            }
            Some('{') => {
                let start = self.i + 2;
                let mut depth = 1;
                let mut j = start;
                while j < self.s.len() {
                    match self.s[j] {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        '\\' => j += 1,
                        _ => {}
                    }
                    j += 1;
                }
                let inner: String = self.s[start..j.min(self.s.len())].iter().collect();
                if inner.contains("$(") || inner.contains('`') {
                    // `${x:-$(cmd)}`: the default's substitution runs.
                    self.cur.subs.push(inner.clone());
                }
                w.push_str(&format!("${{{inner}}}"));
                self.i = (j + 1).min(self.s.len());
            }
            Some('\'') => {
                // ANSI-C quoting: keep the text, decode nothing.
                self.i += 2;
                while let Some(c) = self.peek(0) {
                    self.i += 1;
                    match c {
                        '\'' => break,
                        '\\' => {
                            if let Some(n) = self.peek(0) {
                                w.push('\\');
                                w.push(n);
                                self.i += 1;
                            }
                        }
                        _ => w.push(c),
                    }
                }
            }
            _ => {
                w.push('$');
                self.i += 1;
            }
        }
    }

    fn backtick(&mut self, w: &mut String) {
        self.i += 1;
        let mut inner = String::new();
        while let Some(c) = self.peek(0) {
            self.i += 1;
            match c {
                '`' => break,
                '\\' => {
                    if let Some(n) = self.peek(0) {
                        if !matches!(n, '`' | '\\' | '$') {
                            inner.push('\\');
                        }
                        inner.push(n);
                        self.i += 1;
                    }
                }
                _ => inner.push(c),
            }
        }
        w.push_str(&format!("`{inner}`"));
        self.cur.subs.push(inner);
    }

    /// The text from `start` up to the `)` that closes the `(` before it (quotes respected);
    /// moves past that `)`.
    fn take_parens(&mut self, start: usize) -> String {
        let end = matching_paren(&self.s, start);
        let inner: String = self.s[start.min(self.s.len())..end].iter().collect();
        self.i = (end + 1).min(self.s.len()).max(start.min(self.s.len()));
        inner
    }
}

/// The index of the `)` closing a `(` whose content starts at `start` (the end when unclosed).
fn matching_paren(s: &[char], start: usize) -> usize {
    let mut depth = 1usize;
    let mut j = start;
    // Heredocs opened on the current line: their bodies are text, quotes and parens included.
    let mut heredocs: Vec<(String, bool)> = Vec::new();
    while j < s.len() {
        match s[j] {
            '\\' => j += 1,
            '<' if s.get(j + 1) == Some(&'<') && s.get(j + 2) != Some(&'<') => {
                j += 2;
                let strip = s.get(j) == Some(&'-');
                if strip {
                    j += 1;
                }
                while matches!(s.get(j), Some(' ' | '\t')) {
                    j += 1;
                }
                let mut delim = String::new();
                while let Some(&c) = s.get(j) {
                    if c.is_whitespace() || ";&|()<>".contains(c) {
                        break;
                    }
                    if !matches!(c, '\'' | '"' | '\\') {
                        delim.push(c);
                    }
                    j += 1;
                }
                heredocs.push((delim, strip));
                continue;
            }
            '\n' if !heredocs.is_empty() => {
                for (delim, strip) in std::mem::take(&mut heredocs) {
                    loop {
                        let line_start = j + 1;
                        if line_start >= s.len() {
                            return s.len();
                        }
                        let end = (line_start..s.len())
                            .find(|&k| s[k] == '\n')
                            .unwrap_or(s.len());
                        let line: String = s[line_start..end].iter().collect();
                        j = end;
                        let line = if strip {
                            line.trim_start_matches('\t')
                        } else {
                            &line
                        };
                        if line == delim {
                            break;
                        }
                    }
                }
            }
            '\'' => {
                j += 1;
                while j < s.len() && s[j] != '\'' {
                    j += 1;
                }
            }
            '"' => {
                j += 1;
                while j < s.len() && s[j] != '"' {
                    if s[j] == '\\' {
                        j += 1;
                    }
                    j += 1;
                }
            }
            '`' => {
                j += 1;
                while j < s.len() && s[j] != '`' {
                    if s[j] == '\\' {
                        j += 1;
                    }
                    j += 1;
                }
            }
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return j;
                }
            }
            _ => {}
        }
        j += 1;
    }
    s.len()
}
