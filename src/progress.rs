//! Progress on stderr for long work over input files: a bar of bytes read, with a count.

/// A bar of bytes read out of `total`, followed by "N <what>"; hidden when not enabled
/// (not asked for, or stderr is not a terminal).
pub struct ByteProgress {
    bar: Option<indicatif::ProgressBar>,
    what: &'static str,
}

impl ByteProgress {
    /// `what` names the count, for example "events accepted".
    pub fn new(enabled: bool, total: u64, what: &'static str) -> ByteProgress {
        let bar = enabled.then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total),
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {bytes}/{total_bytes} {msg} [{elapsed_precise}, eta {eta}]",
                )
                .expect("the template is valid"),
            );
            bar
        });
        ByteProgress { bar, what }
    }

    pub fn update(&self, bytes: u64, count: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(bytes);
            bar.set_message(format!("{count} {}", self.what));
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
