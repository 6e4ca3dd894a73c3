//! A deployment's output: lines arrive from the deployer on a channel, are written in batches
//! (one transaction per batch, at most every 150 ms) and published on the deployment's topic in
//! the same transaction, so the stored log and the live stream never disagree.

use crate::events::EventBus;
use app::deploy::{topics, LogLine};
use sqlx::AnyPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
    /// Lines Flightdeck writes itself (started, timed out, health checks).
    Flightdeck,
}

impl Stream {
    fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
            Stream::Flightdeck => "flightdeck",
        }
    }
}

pub type LogSender = mpsc::Sender<(Stream, String)>;

/// A deployment keeps at most this many lines; a runaway command cannot fill the disk.
const MAX_LINES: i64 = 20_000;
/// Longer lines are cut (at a character boundary).
const MAX_LINE_BYTES: usize = 4096;
const BATCH: usize = 500;
const BATCH_WAIT: Duration = Duration::from_millis(150);

/// Starts the writer for deployment `id`, numbering lines after `last_n`. The task ends once
/// every sender is dropped and the last batch is written.
pub fn spawn_writer(
    pool: AnyPool,
    bus: Arc<EventBus>,
    id: i64,
    last_n: i64,
) -> (LogSender, JoinHandle<()>) {
    let (sender, mut receiver) = mpsc::channel::<(Stream, String)>(1024);
    let task = tokio::spawn(async move {
        let mut n = last_n;
        while let Some(first) = receiver.recv().await {
            let mut batch = vec![first];
            let deadline = tokio::time::Instant::now() + BATCH_WAIT;
            while batch.len() < BATCH {
                match tokio::time::timeout_at(deadline, receiver.recv()).await {
                    Ok(Some(line)) => batch.push(line),
                    _ => break,
                }
            }
            let at = crate::now_ms();
            let mut lines = Vec::with_capacity(batch.len());
            for (stream, text) in batch {
                if n > MAX_LINES {
                    break;
                }
                n += 1;
                let (stream, text) = if n > MAX_LINES {
                    (
                        Stream::Flightdeck,
                        format!("Output truncated: a deployment keeps at most {MAX_LINES} lines."),
                    )
                } else {
                    (stream, clip(text))
                };
                lines.push(LogLine {
                    n,
                    at,
                    stream: stream.as_str().into(),
                    text,
                });
            }
            if lines.is_empty() {
                continue;
            }
            if let Err(error) = write(&pool, &bus, id, &lines).await {
                tracing::warn!(deployment = id, %error, lines = lines.len(), "could not store deployment log lines");
            }
        }
    });
    (sender, task)
}

fn clip(mut text: String) -> String {
    if text.len() > MAX_LINE_BYTES {
        let mut end = MAX_LINE_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

async fn write(
    pool: &AnyPool,
    bus: &EventBus,
    id: i64,
    lines: &[LogLine],
) -> Result<(), sqlx::Error> {
    let mut sql =
        String::from("INSERT INTO deployment_logs (deployment_id, n, at, stream, line) VALUES ");
    sql.push_str(&crate::store::values_placeholders(
        crate::db::Backend::of(pool),
        lines.len(),
        5,
    ));
    let mut insert = sqlx::query(&sql);
    for line in lines {
        insert = insert
            .bind(id)
            .bind(line.n)
            .bind(line.at)
            .bind(&line.stream)
            .bind(&line.text);
    }
    let mut tx = pool.begin().await?;
    insert.execute(&mut *tx).await?;
    sqlx::query("UPDATE deployments SET log_lines = $1 WHERE id = $2")
        .bind(lines.last().map(|l| l.n).unwrap_or(0))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let data = serde_json::json!({ "deployment_id": id, "lines": lines });
    crate::events::append(&mut tx, &topics::deployment(id), "deployment.log", &data).await?;
    tx.commit().await?;
    bus.wake();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::clip;

    #[test]
    fn long_lines_are_cut_on_a_character_boundary() {
        let cut = clip("é".repeat(3000));
        assert!(cut.len() <= super::MAX_LINE_BYTES + '…'.len_utf8());
        assert!(cut.ends_with('…'));
        assert_eq!(clip("short".into()), "short");
    }
}
