//! A small, forgiving splitter for sh: quotes, escapes, `;` `&&` `||` `|` `&` newlines, subshells,
//! redirections, heredocs and here-strings, `$( )` / backticks / `<( )`.
//!
//! It never fails: text bash would reject (an unterminated quote) is still split as well as it can
//! be, which errs on the side of seeing more commands, not fewer. Command substitutions are not
//! parsed here: their source is handed back in [`Simple::subs`] for the caller to split in turn.

/// One simple command: its words with quotes removed (expansions such as `$HOME` or `$(pwd)` are
/// kept as written), its redirections, and what feeds its stdin.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Simple {
    pub words: Vec<String>,
    pub redirects: Vec<Redirect>,
    /// The body of a heredoc (`<<EOF`) or here-string (`<<<`) given to it.
    pub stdin_text: Option<String>,
    /// Variables in `stdin_text` are expanded (a here-string, or a heredoc whose delimiter is
    /// not quoted: `<<EOF`, not `<<'EOF'`).
    pub stdin_expands: bool,
    /// The index (in the same [`parse`] result) of the command piping into this one (`a | b`).
    pub piped_from: Option<usize>,
    /// Sources of the command substitutions (`$( )`, backticks, `<( )`, `>( )`) in its words.
    pub subs: Vec<String>,
    /// The subshells `( … )` it runs in, outermost first, each by a number unique in the
    /// [`parse`] result: a `cd` inside one does not outlast it.
    pub scope: Vec<u32>,
}

/// A redirection: its operator (`>`, `>>`, `<`, `2>`, `&>`, `<<`, …) and target word.
#[derive(Clone, Debug, PartialEq)]
pub struct Redirect {
    pub op: String,
    pub target: String,
}

impl Redirect {
    /// Writes to its target (as opposed to reading it or duplicating a descriptor).
    pub fn writes(&self) -> bool {
        let op = self.op.trim_start_matches(|c: char| c.is_ascii_digit());
        matches!(op, ">" | ">>" | ">|" | "&>" | "&>>" | "<>")
    }
    /// Reads its target as a file.
    pub fn reads(&self) -> bool {
        let op = self.op.trim_start_matches(|c: char| c.is_ascii_digit());
        matches!(op, "<" | "<>")
    }
}

/// Split `src` into its simple commands, in order.
pub fn parse(src: &str) -> Vec<Simple> {
    let mut p = Parser {
        s: src.chars().collect(),
        i: 0,
        out: Vec::new(),
        cur: Simple::default(),
        heredocs: Vec::new(),
        pipe_next: false,
        scope: Vec::new(),
        subshells: 0,
    };
    p.run();
    p.out
}

struct Heredoc {
    cmd: usize,
    delim: String,
    strip_tabs: bool,
    quoted: bool,
}

struct Parser {
    s: Vec<char>,
    i: usize,
    out: Vec<Simple>,
    cur: Simple,
    heredocs: Vec<Heredoc>,
    /// The next command's stdin is the pipe from the last one pushed.
    pipe_next: bool,
    /// The subshells open here, and how many have been opened so far.
    scope: Vec<u32>,
    subshells: u32,
}

impl Parser {
    fn peek(&self, off: usize) -> Option<char> {
        self.s.get(self.i + off).copied()
    }

    fn run(&mut self) {
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' | '\r' => self.i += 1,
                '\\' if self.peek(1) == Some('\n') => self.i += 2,
                '\n' => {
                    self.i += 1;
                    self.end_command(false);
                    self.read_heredocs();
                }
                '(' => {
                    self.i += 1;
                    self.end_command(false);
                    self.subshells += 1;
                    self.scope.push(self.subshells);
                }
                ')' => {
                    self.i += 1;
                    self.end_command(false);
                    self.scope.pop();
                }
                ';' => {
                    self.i += 1;
                    while matches!(self.peek(0), Some(';' | '&')) {
                        self.i += 1; // `;;`, `;&`, `;;&` (case)
                    }
                    self.end_command(false);
                }
                '&' if self.peek(1) == Some('&') => {
                    self.i += 2;
                    self.end_command(false);
                }
                '&' if self.peek(1) == Some('>') => self.redirect(String::new()),
                '&' => {
                    self.i += 1;
                    self.end_command(false);
                }
                '|' => {
                    let pipe = self.peek(1) != Some('|');
                    self.i += if pipe && self.peek(1) != Some('&') {
                        1
                    } else {
                        2
                    };
                    self.end_command(pipe);
                }
                '<' | '>' if self.peek(1) == Some('(') => self.word(),
                '<' | '>' => self.redirect(String::new()),
                '#' => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.i += 1;
                    }
                }
                _ => self.word(),
            }
        }
        self.end_command(false);
    }

    /// Finish the command being built; `pipe`: its stdout feeds the next one.
    fn end_command(&mut self, pipe: bool) {
        let cur = std::mem::take(&mut self.cur);
        let empty = cur.words.is_empty() && cur.redirects.is_empty() && cur.subs.is_empty();
        if !empty {
            let mut cur = cur;
            cur.scope = self.scope.clone();
            if self.pipe_next {
                cur.piped_from = self.out.len().checked_sub(1);
            }
            self.out.push(cur);
        }
        self.pipe_next = pipe && !empty;
    }

    /// The index the command being built will have once finished.
    fn cur_index(&self) -> usize {
        self.out.len()
    }

    fn word(&mut self) {
        let (w, _) = self.read_word();
        // `2>file`, `10>&1`: a number right before a redirection is its descriptor.
        if !w.is_empty()
            && w.chars().all(|c| c.is_ascii_digit())
            && matches!(self.peek(0), Some('<' | '>'))
            && self.peek(1) != Some('(')
        {
            self.redirect(w);
            return;
        }
        self.cur.words.push(w);
    }

    fn redirect(&mut self, fd: String) {
        const OPS: [&str; 12] = [
            "&>>", "&>", "<<<", "<<-", "<<", "<>", "<&", ">>", ">|", ">&", "<", ">",
        ];
        let mut op = fd;
        let ahead: String = self.s[self.i..(self.i + 3).min(self.s.len())]
            .iter()
            .collect();
        let found = OPS.iter().find(|o| ahead.starts_with(**o)).unwrap_or(&">");
        op.push_str(found);
        self.i += found.len();
        while matches!(self.peek(0), Some(' ' | '\t')) {
            self.i += 1;
        }
        let (target, quoted) = self.read_word();
        let bare = op.trim_start_matches(|c: char| c.is_ascii_digit());
        if bare == "<<" || bare == "<<-" {
            self.heredocs.push(Heredoc {
                cmd: self.cur_index(),
                delim: target.clone(),
                strip_tabs: bare == "<<-",
                quoted,
            });
        } else if bare == "<<<" {
            append_stdin(&mut self.cur, &target);
            self.cur.stdin_expands = true;
        }
        self.cur.redirects.push(Redirect { op, target });
    }

    /// After a newline: the bodies of the heredocs opened on the line just ended.
    fn read_heredocs(&mut self) {
        for h in std::mem::take(&mut self.heredocs) {
            let mut body = String::new();
            loop {
                if self.i >= self.s.len() {
                    break;
                }
                let start = self.i;
                while self.peek(0).is_some_and(|c| c != '\n') {
                    self.i += 1;
                }
                let line: String = self.s[start..self.i].iter().collect();
                if self.peek(0) == Some('\n') {
                    self.i += 1;
                }
                let cmp = if h.strip_tabs {
                    line.trim_start_matches('\t')
                } else {
                    line.as_str()
                };
                if cmp == h.delim {
                    break;
                }
                body.push_str(&line);
                body.push('\n');
            }
            if let Some(c) = self.out.get_mut(h.cmd) {
                append_stdin(c, &body);
                c.stdin_expands |= !h.quoted;
            }
        }
    }
}

fn append_stdin(c: &mut Simple, text: &str) {
    match &mut c.stdin_text {
        Some(t) => {
            t.push('\n');
            t.push_str(text);
        }
        None => c.stdin_text = Some(text.to_string()),
    }
}

#[path = "shell_words.rs"]
mod words;

#[cfg(test)]
#[path = "shell_tests.rs"]
mod tests;
