//! A flag's history as its page shows it: the latest changes, read again at each live event,
//! followed by older ones read on demand and kept. History entries never change, so a live
//! event reads one page however much of the history is shown (it used to read all of it).

use super::FlagChange;
use serde::{Deserialize, Serialize};

/// Changes, newest first, and the change just before the oldest of them, if there is one (what
/// the oldest changed is read against it; it says there are older changes to read).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub changes: Vec<FlagChange>,
    pub older: Option<FlagChange>,
}

impl HistoryPage {
    /// From up to `size + 1` changes read newest first: one past `size` is the `older`.
    pub fn from_read(mut changes: Vec<FlagChange>, size: usize) -> HistoryPage {
        let older = (changes.len() > size).then(|| changes.pop()).flatten();
        changes.truncate(size);
        HistoryPage { changes, older }
    }

    /// This page, the latest, followed by `kept`, what was shown before with older pages read
    /// since, where it continues this one. When more changes arrived meanwhile than a page holds,
    /// it no longer meets this one and is left out: the page starts again from the latest.
    pub fn joined(&self, kept: &HistoryPage) -> HistoryPage {
        let meets = self
            .older
            .as_ref()
            .is_some_and(|next| kept.changes.iter().any(|c| c.id == next.id));
        if !meets {
            return self.clone();
        }
        let oldest = self.changes.last().map_or(i64::MAX, |c| c.id);
        let mut changes = self.changes.clone();
        changes.extend(kept.changes.iter().filter(|c| c.id < oldest).cloned());
        HistoryPage {
            changes,
            older: kept.older.clone(),
        }
    }

    /// This page followed by `more`, the page read before its oldest change.
    pub fn extended(&self, more: HistoryPage) -> HistoryPage {
        let mut changes = self.changes.clone();
        changes.extend(more.changes);
        HistoryPage {
            changes,
            older: more.older,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::Flag;

    fn change(id: i64) -> FlagChange {
        let flag: Flag = serde_json::from_value(serde_json::json!({
            "key": "checkout", "kind": "boolean", "variants": {"on": true, "off": false},
            "default_variant": "off", "version": id
        }))
        .unwrap();
        FlagChange {
            id,
            at: id * 1_000,
            actor: "ann".into(),
            action: "updated".into(),
            reason: None,
            flag,
        }
    }

    /// Changes `from` down to `to`, newest first, with the one before `to` as older (if > 0).
    fn page(from: i64, to: i64) -> HistoryPage {
        HistoryPage {
            changes: (to..=from).rev().map(change).collect(),
            older: (to > 1).then(|| change(to - 1)),
        }
    }

    fn ids(page: &HistoryPage) -> Vec<i64> {
        page.changes.iter().map(|c| c.id).collect()
    }

    #[test]
    fn a_read_of_one_more_than_a_page_says_there_are_older_changes() {
        let read: Vec<FlagChange> = (1..=4).rev().map(change).collect();
        let full = HistoryPage::from_read(read.clone(), 3);
        assert_eq!(
            (ids(&full), full.older.map(|c| c.id)),
            (vec![4, 3, 2], Some(1))
        );
        let short = HistoryPage::from_read(read, 4);
        assert_eq!((ids(&short), short.older), (vec![4, 3, 2, 1], None));
    }

    #[test]
    fn older_pages_read_stay_shown_as_new_changes_arrive() {
        // 20 changes: the latest five shown, then five older read on demand.
        let shown = page(20, 16).extended(page(15, 11));
        assert_eq!(shown.older.as_ref().map(|c| c.id), Some(10));
        assert_eq!(page(20, 16).joined(&shown), shown, "nothing new: the same");
        // Two new changes: the latest page moves up by two, and the rest stays shown.
        let after = page(22, 18).joined(&shown);
        assert_eq!(ids(&after), (11..=22).rev().collect::<Vec<_>>());
        assert_eq!(after.older.map(|c| c.id), Some(10));
    }

    #[test]
    fn the_page_starts_again_when_more_than_a_page_arrived() {
        let shown = page(20, 16).extended(page(15, 11));
        // Seven new changes with pages of five: 21 and 22 were never read.
        let after = page(27, 23).joined(&shown);
        assert_eq!(after, page(27, 23));
        // Nothing kept, or a history that fits one page: the latest alone.
        assert_eq!(page(20, 16).joined(&HistoryPage::default()), page(20, 16));
        assert_eq!(page(3, 1).joined(&shown), page(3, 1));
    }
}
