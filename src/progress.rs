//! Progress on stderr for long work: a bar of bytes read (input files) or of work done
//! (events written by a merge), with a count.

/// A bar of progress out of a total, followed by "N <what>"; hidden when not enabled (not
/// asked for, or stderr is not a terminal).
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    what: &'static str,
}

impl Progress {
    /// A bar of bytes read out of `total`; `what` names the count, for example "events
    /// accepted".
    pub fn bytes(enabled: bool, total: u64, what: &'static str) -> Progress {
        Self::with_template(
            enabled,
            total,
            what,
            "{bar:30} {bytes}/{total_bytes} {msg} [{elapsed_precise}, eta {eta}]",
        )
    }

    /// A bar of work done out of `total`, followed by a count that `what` names ("events
    /// being merged").
    pub fn items(enabled: bool, total: u64, what: &'static str) -> Progress {
        Self::with_template(
            enabled,
            total,
            what,
            "{bar:30} {msg} [{elapsed_precise}, eta {eta}]",
        )
    }

    fn with_template(enabled: bool, total: u64, what: &'static str, template: &str) -> Progress {
        let bar = enabled.then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total),
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template(template).expect("the template is valid"),
            );
            bar
        });
        Progress { bar, what }
    }

    pub fn update(&self, position: u64, count: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
            bar.set_message(format!("{count} {}", self.what));
        }
    }

    /// Changes the total, once the work is known better.
    pub fn set_total(&self, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
