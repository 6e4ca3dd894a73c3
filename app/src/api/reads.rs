//! Reads that more than one server function makes, each more than one port call: the marks of
//! what CI failed on (the board, a service's page, the history, the dashboard) and a page of a
//! flag's history. Server-only, like the server functions' bodies that call them.

use super::flags::FLAG_HISTORY_PAGE;
use crate::builds::commit::{failed_commits, release_commits, FailedCommits};
use crate::deploy::{Deployment, StatusCell};
use crate::error::AppError;
use crate::flags::history::HistoryPage;
use crate::ports::Ports;

/// Of these releases' commits, those CI failed on: one read of their builds. Every mark goes
/// through here, so the pages that show them always agree.
async fn ci_failed_among<'a>(
    ports: &Ports,
    shas: impl Iterator<Item = &'a str>,
) -> Result<FailedCommits, AppError> {
    let commits = release_commits(shas);
    if commits.is_empty() {
        return Ok(FailedCommits::default());
    }
    Ok(failed_commits(
        &commits,
        &ports.builds.of_commits(&commits).await?,
    ))
}

/// Marks the `cells` whose running version was built from a commit CI failed on (`ci_failed`).
pub(super) async fn mark_ci_failed<'a>(
    ports: &Ports,
    cells: impl Iterator<Item = &'a mut StatusCell>,
) -> Result<(), AppError> {
    let mut cells: Vec<&mut StatusCell> = cells.collect();
    let running = cells.iter().filter_map(|c| c.live_git_sha.as_deref());
    let failed = ci_failed_among(ports, running).await?;
    for cell in cells.iter_mut() {
        cell.ci_failed = cell
            .live_git_sha
            .as_deref()
            .is_some_and(|sha| failed.holds(sha));
    }
    Ok(())
}

/// The ids of the `deployments` that went out with a commit CI failed on, for the history to mark.
pub(super) async fn went_out_ci_failed(
    ports: &Ports,
    deployments: &[Deployment],
) -> Result<Vec<i64>, AppError> {
    let shas = deployments.iter().filter_map(|d| d.git_sha.as_deref());
    let failed = ci_failed_among(ports, shas).await?;
    Ok((deployments.iter())
        .filter(|d| d.git_sha.as_deref().is_some_and(|sha| failed.holds(sha)))
        .map(|d| d.id)
        .collect())
}

/// The flag's changes before the change `before` (the latest without it), a page at a time.
pub(super) async fn flag_history_page(
    ports: &Ports,
    key: &str,
    before: Option<i64>,
) -> Result<HistoryPage, AppError> {
    let read = FLAG_HISTORY_PAGE as i64 + 1;
    let changes = ports.flags.history(key, before, read).await?;
    Ok(HistoryPage::from_read(changes, FLAG_HISTORY_PAGE))
}
