//! The deployments board: the environment matrix (service x environment: version, status, age),
//! quarantined versions, and the history with filters and pages. Everything refetches when a
//! deployment changes, so the board is live without a reload.

use crate::api::codec::resource;
use crate::api::*;
use crate::catalog::Environment;
use crate::components::common::*;
use crate::components::confirm::{Asking, ConfirmInPlace};
use crate::components::deploy::*;
use crate::components::deploy_dialog::*;
use crate::components::deploy_log::LogView;
use crate::components::layout::{provide_role, use_role_at_least, viewer_role};
use crate::components::release_ci::ci_failed_mark;
use crate::deploy::{
    compare_versions, topics, Accepted, DeploymentKind, DeploymentQuery, DeploymentStatus,
    Quarantine, StatusCell,
};
use crate::href::use_query;
use crate::href::QueryHref;
use crate::live::changes_on;
use crate::model::Role;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DeploymentsPage() -> impl IntoView {
    let params = use_query();
    let query = move || {
        let p = params.read();
        // Names are slugs (validated on creation), so they need no decoding beyond this.
        let slug = |key: &str| {
            p.get(key).filter(|v| {
                !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
        };
        DeploymentQuery {
            service: slug("service"),
            environment: slug("environment"),
            status: p.get("status").and_then(|s| DeploymentStatus::parse(&s)),
            limit: Some(25),
            cursor: p.get("cursor").and_then(|c| c.parse().ok()),
        }
    };
    view! {
        <Title text="Deployments"/>
        {move || view! { <DeploymentsBoard history=query() role=viewer_role()/> }}
    }
}

/// The live board, its actions and the history (filtered and paged as `history` says).
#[island]
fn DeploymentsBoard(history: DeploymentQuery, role: Option<Role>) -> impl IntoView {
    provide_role(role);
    let changes = changes_on(topics::DEPLOYMENTS);
    // A build can put the matrix's CI mark on a running version, or take it off.
    let builds = changes_on(crate::builds::TOPIC);
    let lift = ServerAction::<LiftQuarantine>::new();
    let board = resource(
        move || (changes.get(), builds.get(), lift.version().get()),
        |_| load_board(),
    );
    let can_operate = use_role_at_least(Role::Operator);
    let dialog = RwSignal::new(None::<DialogRequest>);
    let toasts = Toasts::new();
    // One environment's column, or all. A phone shows the last (production) first: the whole
    // matrix does not fit, and production is what an on-call engineer looks for.
    let shown = RwSignal::new(None::<String>);
    // Until that choice is made after hydration (the server cannot know the width), a phone's
    // CSS shows the last column alone, so the matrix does not jump from all columns to one.
    let settled = RwSignal::new(false);
    // On a phone a cell's actions fold into the cell ("Actions"), so a tap on the matrix
    // reads it rather than acts on it. Set after hydration: the server cannot know the width.
    let compact = RwSignal::new(false);
    Effect::new(move |_| compact.set(narrow_window()));
    Effect::new(move |picked_before: Option<bool>| {
        if picked_before == Some(true) {
            return true;
        }
        let Some(Ok(b)) = board.get() else {
            return false;
        };
        if narrow_window() {
            shown.set(b.environments.last().map(|e| e.name.clone()));
        }
        settled.set(true);
        true
    });
    // Deployments started from this page: one toast each follows it from queued to its end.
    let watching = RwSignal::new(Vec::<i64>::new());

    let board_view = BoardView::of(board);
    Effect::new(move |_| {
        let Some(Ok(b)) = board.get() else { return };
        for cell in &b.cells {
            let (Some(id), Some(status)) = (cell.deployment_id, cell.status) else {
                continue;
            };
            if !watching.with_untracked(|w| w.contains(&id)) {
                continue;
            }
            if !status.is_active() {
                watching.update(|w| w.retain(|x| *x != id));
            }
            toasts.show(
                Some(id),
                format!(
                    "#{id} {} {} in {}: {}",
                    cell.service,
                    cell.version.clone().unwrap_or_default(),
                    cell.environment,
                    status.label()
                ),
                Some(format!("/deployments/{id}")),
                status == DeploymentStatus::Failed,
            );
        }
    });
    // The log of the deployment started last from this page, opened below the matrix so the
    // matrix stays in view while it goes out.
    let live_log = RwSignal::new(None::<Accepted>);
    let log_anchor = NodeRef::<leptos::html::Div>::new();
    let on_accepted = Callback::new(move |a: Accepted| {
        watching.update(|w| w.push(a.id));
        live_log.set(Some(a.clone()));
        // Scrolled just far enough that its bottom shows: on a desk the matrix stays in view, and
        // the sticky top bar cannot cover the log's title.
        request_animation_frame(move || {
            if let Some(el) = log_anchor.get_untracked() {
                el.scroll_into_view_with_bool(false);
            }
        });
        toasts.show(
            Some(a.id),
            format!(
                "Deployment #{} queued: {} to {}",
                a.id, a.target_version, a.environment
            ),
            Some(format!("/deployments/{}", a.id)),
            false,
        );
    });

    view! {
        <div class="page-head page-head-actions">
            <div>
                <h1>"Deployments"</h1>
                <p class="muted">"What runs where, live. Select a cell for its deployment and log."</p>
            </div>
            <Show when=move || can_operate.get()>
                <button class="btn btn-primary" type="button"
                    on:click=move |_| dialog.set(Some(DialogRequest::deploy()))>
                    "Deploy…"
                </button>
            </Show>
        </div>
        <section class="card" aria-labelledby="matrix-title">
            <h2 id="matrix-title">"Environments"</h2>
            <Transition fallback=|| view! { <LoadingRows rows=4/> }>
                {move || board.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(b) if b.services.is_empty() || b.environments.is_empty() => view! {
                        <EmptyState title="Nothing to deploy yet">
                            <p>"Register services with POST /api/v1/services and environments with POST /api/v1/environments, then give each pair a deployer with PUT /api/v1/services/{name}/targets/{environment}. Or start with flightdeck serve --demo."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(b) => {
                        let names: Vec<String> = b.environments.iter().map(|e| e.name.clone()).collect();
                        view! {
                            <label class="env-pick">"Show"
                                <select aria-label="Environments shown" on:change=move |ev| {
                                    let v = event_target_value(&ev);
                                    shown.set((!v.is_empty()).then_some(v));
                                } prop:value=move || shown.get().unwrap_or_default()>
                                    <option value="">"all environments"</option>
                                    {names.into_iter().rev().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
                                </select>
                            </label>
                            <Matrix cells=b.cells environments=b.environments quarantines=b.quarantines dialog can_operate shown settled compact/>
                        }.into_any()
                    }
                })}
            </Transition>
        </section>
        <div node_ref=log_anchor data-testid="live-log">
            {move || live_log.get().map(|a| view! {
                <LogView id=a.id title=format!("Deployment #{}: {} → {}", a.id, a.target_version, a.environment)
                    on_close=Callback::new(move |_| live_log.set(None))/>
            })}
        </div>
        <Transition fallback=|| ()>
            {move || board.get().and_then(|r| r.ok()).filter(|b| !b.quarantines.is_empty()).map(|b| view! {
                <Quarantines list=b.quarantines lift can_operate/>
            })}
        </Transition>
        <History query=history/>
        <LazyDeployDialog open=dialog board=board_view on_accepted/>
        <ToastRegion toasts/>
    }
}

#[component]
fn Matrix(
    cells: Vec<StatusCell>,
    environments: Vec<Environment>,
    quarantines: Vec<Quarantine>,
    dialog: RwSignal<Option<DialogRequest>>,
    can_operate: Signal<bool>,
    shown: RwSignal<Option<String>>,
    settled: RwSignal<bool>,
    compact: RwSignal<bool>,
) -> impl IntoView {
    let columns = environments.len();
    // Whether environment `name`'s column is on screen.
    let visible = move |name: String| move || shown.with(|s| s.as_ref().is_none_or(|s| *s == name));
    let header = environments.iter().map(|e| {
        let on_screen = visible(e.name.clone());
        view! {
        <th scope="col" class:hidden=move || !on_screen()>{e.name.clone()}{e.protected.then(|| view! { <span class="badge protected" title="Protected: actions ask for a typed confirmation">"protected"</span> })}</th>
        }
    }).collect_view();
    let next_env: Vec<Option<String>> = (0..columns)
        .map(|i| environments.get(i + 1).map(|e| e.name.clone()))
        .collect();
    let rows = cells
        .chunks(columns.max(1))
        .map(|row| {
            let service = row.first().map(|c| c.service.clone()).unwrap_or_default();
            let tds = row
                .iter()
                .enumerate()
                .zip(next_env.clone())
                .map(|((i, cell), next)| {
                    // Promote only where it would move something forward: not when the next
                    // environment already runs this version or a newer one, nor when the version
                    // is quarantined there (the server would refuse it).
                    let next_live = row.get(i + 1).and_then(|c| c.live_version.as_deref());
                    let quarantined_there = |to: &String| {
                        quarantines.iter().any(|q| {
                            q.service == cell.service
                                && &q.environment == to
                                && Some(q.version.as_str()) == cell.live_version.as_deref()
                        })
                    };
                    let next = next.filter(|to| !quarantined_there(to));
                    let next = next.filter(|_| match (cell.live_version.as_deref(), next_live) {
                        (Some(here), Some(there)) => {
                            compare_versions(there, here) == Some(std::cmp::Ordering::Less)
                                || compare_versions(there, here).is_none() && there != here
                        }
                        _ => true,
                    });
                    let cell = cell.clone();
                    let on_screen = visible(cell.environment.clone());
                    view! {
                        <Show when=on_screen>
                            <MatrixCell cell=cell.clone() next=next.clone() dialog can_operate compact/>
                        </Show>
                    }
                })
                .collect_view();
            view! { <tr><th scope="row"><a class="service-name" href=format!("/services/{service}")>{service.clone()}</a></th>{tds}</tr> }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="table matrix" class:settled=move || settled.get()>
                <thead><tr><th scope="col">"Service"</th>{header}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn MatrixCell(
    cell: StatusCell,
    next: Option<String>,
    dialog: RwSignal<Option<DialogRequest>>,
    can_operate: Signal<bool>,
    compact: RwSignal<bool>,
) -> impl IntoView {
    let testid = format!("cell-{}-{}", cell.service, cell.environment);
    let StatusCell {
        service,
        environment,
        version,
        status,
        deployment_id,
        deployed_at,
        live_version,
        configured,
        kind,
        rollback_to,
        ci_failed,
        ..
    } = cell;
    let (Some(id), Some(version), Some(status)) = (deployment_id, version.clone(), status) else {
        let text = if configured {
            "nothing deployed"
        } else {
            "no deployer"
        };
        return view! { <td class="cell" data-testid=testid><span class="muted">{text}</span></td> }.into_any();
    };
    // The CI mark goes beside the version that runs: the cell's own, or the one still serving.
    let serving_other = live_version.as_ref().is_some_and(|live| *live != version);
    let live_note = live_version
        .clone()
        .filter(|_| serving_other)
        .map(|live| view! { <div class="cell-meta">"still serving: "<code>{live}</code>{ci_failed.then(ci_failed_mark)}</div> });
    let ci_mark = (ci_failed && !serving_other).then(ci_failed_mark);
    // A failed deployment never served: its cell offers to try it again; a rollback acts on
    // what serves, and only where something does and an earlier version succeeded to go back
    // to (a first version has none: the button would only open a refusal).
    let failed = status == DeploymentStatus::Failed;
    let can_roll_back = !status.is_active() && !failed && rollback_to.is_some();
    let rollback_title = StoredValue::new(rollback_to.map(|v| format!("Roll back to {v}")));
    let rollback = StoredValue::new(DialogRequest::Rollback {
        service: service.clone(),
        environment: environment.clone(),
    });
    let retry = StoredValue::new(DialogRequest::retry(&service, &environment, &version));
    let after_rollback = (kind == Some(DeploymentKind::Rollback)).then(rollback_mark);
    // (service, from, to, version) of the promote button, when there is a live version and a next environment.
    let promote = StoredValue::new(
        live_version
            .clone()
            .zip(next)
            .map(|(live, to)| (service.clone(), environment.clone(), to, live)),
    );
    let promote_button = move || {
        promote.get_value().map(|(service, from, to, version)| {
            let label = format!("Promote to {to}");
            let open = move |_| {
                dialog.set(Some(DialogRequest::Promote {
                    service: service.clone(),
                    from: from.clone(),
                    to: to.clone(),
                    version: version.clone(),
                }))
            };
            view! { <button class="btn btn-small" type="button" on:click=open>{label}</button> }
        })
    };
    view! {
        <td class=format!("cell status-cell-{}", status.as_str()) data-testid=testid>
            <a class="cell-link" href=format!("/deployments/{id}")>
                <code class="version">{version}</code>
                " "
                <StatusBadge status/>
            </a>
            {ci_mark}
            <div class="cell-meta">{deployed_at.map(|ms| view! { <TimeAgo ms/> })}{after_rollback}</div>
            {live_note}
            <Show when=move || can_operate.get() && (failed || can_roll_back || promote.with_value(Option::is_some))>
                {move || {
                    let (retry, rollback) = (retry.get_value().opener(dialog), rollback.get_value().opener(dialog));
                    // Folded only on a phone; wider, the CSS hides the summary of the open fold.
                    // Drawn open, so a desk sees the buttons before hydration too.
                    view! {
                        <details class="cell-more" open=move || !compact.get()>
                            <summary>"Actions"</summary>
                            <div class="cell-actions">
                                {failed.then(|| view! { <button class="btn btn-small" type="button" on:click=retry>"Retry…"</button> })}
                                {can_roll_back.then(|| view! { <button class="btn btn-small btn-danger-ghost" type="button" title=rollback_title.get_value() on:click=rollback>"Roll back"</button> })}
                                {promote_button}
                            </div>
                        </details>
                    }
                }}
            </Show>
        </td>
    }
    .into_any()
}

#[component]
fn Quarantines(
    list: Vec<Quarantine>,
    lift: ServerAction<LiftQuarantine>,
    can_operate: Signal<bool>,
) -> impl IntoView {
    let confirming = RwSignal::new(None::<i64>);
    view! {
        <section class="card" aria-labelledby="quarantine-title">
            <h2 id="quarantine-title">"Quarantined versions"</h2>
            <p class="muted">"Rolled-back versions are not deployed to that environment again until someone lifts the quarantine."</p>
            {move || lift.value().get().and_then(|r| r.err()).map(|e| view! { <p class="note note-error" role="alert">{e.message}</p> })}
            <div class="table-wrap">
                <table class="table quarantine-table phone-cards">
                    <thead><tr>
                        <th scope="col">"Service"</th><th scope="col">"Environment"</th><th scope="col">"Version"</th>
                        <th scope="col">"Why"</th><th scope="col">"Since"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr></thead>
                    <tbody>
                        {list.into_iter().enumerate().map(|(i, q)| {
                            let key = StoredValue::new((q.service.clone(), q.environment.clone(), q.version.clone()));
                            let lift_it = move |_: ()| {
                                let (service, environment, version) = key.get_value();
                                lift.dispatch(LiftQuarantine { service, environment, version });
                            };
                            view! {
                                <tr>
                                    <td class="q-service">{q.service}</td><td class="q-env">{q.environment}</td><td class="q-version"><code>{q.version}</code></td>
                                    <td class="q-why muted">{q.reason.unwrap_or_default()}</td>
                                    <td class="q-since"><TimeAgo ms=q.created_at/></td>
                                    <td class="q-lift">
                                        <Show when=move || can_operate.get()>
                                            <ConfirmInPlace asking=Asking::Row(confirming, i as i64) ask="Lift…" small=true
                                                keep="Keep" act="Lift quarantine" disabled=lift.pending()
                                                on_confirm=Callback::new(lift_it)/>
                                        </Show>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

fn history_href(query: &DeploymentQuery, cursor: Option<i64>) -> String {
    QueryHref::new()
        .param("service", query.service.as_deref())
        .param("environment", query.environment.as_deref())
        .param("status", query.status)
        .param("cursor", cursor)
        .build("/deployments", "#history")
}

#[component]
fn History(query: DeploymentQuery) -> impl IntoView {
    let query = Signal::stored(query);
    let changes = changes_on(topics::DEPLOYMENTS);
    // A build can mark any page's release "CI failed", or take the mark off on a passing re-run;
    // a deployment moves only the newest page.
    let builds = changes_on(crate::builds::TOPIC);
    let page = resource(
        move || {
            let q = query.get();
            let version = if q.cursor.is_none() { changes.get() } else { 0 };
            (q, version, builds.get())
        },
        |(q, _, _)| list_deployments(q),
    );
    view! {
        <section class="card" id="history" aria-labelledby="history-title">
            <h2 id="history-title">"History"</h2>
            <form class="filters" method="get" action="/deployments#history" role="search">
                <label>"Service"
                    <input type="search" name="service" placeholder="any" prop:value=move || query.get().service.unwrap_or_default()/>
                </label>
                <label>"Environment"
                    <input type="search" name="environment" placeholder="any" prop:value=move || query.get().environment.unwrap_or_default()/>
                </label>
                <label>"Status"
                    <select name="status" prop:value=move || query.get().status.map(|s| s.as_str()).unwrap_or_default()>
                        <option value="">"any"</option>
                        {DeploymentStatus::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                    </select>
                </label>
                <button class="btn" type="submit">"Filter"</button>
                <a class="btn btn-ghost" href="/deployments#history">"Clear"</a>
            </form>
            <Transition fallback=|| view! { <LoadingRows/> }>
                {move || page.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! {
                        <EmptyState title="No deployments match">
                            <p>"Clear the filters, or deploy something."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(page) => {
                        let q = query.get_untracked();
                        let older = page.next_cursor.map(|c| history_href(&q, Some(c)));
                        let newest = q.cursor.map(|_| history_href(&q, None));
                        view! {
                            <div class="table-wrap">
                                <table class="table history-table phone-cards">
                                    <thead><tr>
                                        <th scope="col">"#"</th><th scope="col">"Service, environment"</th>
                                        <th scope="col">"Version"</th><th scope="col">"Status"</th>
                                        <th scope="col">"By"</th><th scope="col">"When"</th>
                                    </tr></thead>
                                    <tbody>
                                        {page.items.into_iter().map(|d| {
                                            let ci_failed = page.ci_failed.contains(&d.id);
                                            let took = d.started_at.zip(d.finished_at).map(|(s, f)| crate::time_fmt::duration(f - s));
                                            view! {
                                                <tr>
                                                    <td class="h-id"><a href=format!("/deployments/{}", d.id)>{format!("#{}", d.id)}</a></td>
                                                    <td class="h-where">{d.service}<span class="cell-line muted">{d.environment}</span></td>
                                                    <td class="h-version"><code>{d.version}</code>{kind_mark(d.kind)}{ci_failed.then(ci_failed_mark)}</td>
                                                    <td class="h-status"><StatusBadge status=d.status/></td>
                                                    <td class="h-by"><span class="phone-label">"by "</span>{d.actor}</td>
                                                    <td class="h-when"><TimeAgo ms=d.created_at/>{took.map(|t| view! { <span class="cell-line muted">"took "{t}</span> })}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <nav class="pager" aria-label="History pages">
                                {newest.map(|href| view! { <a class="btn btn-ghost" href=href>"← Newest"</a> })}
                                {older.map(|href| view! { <a class="btn" href=href>"Older →"</a> })}
                            </nav>
                        }.into_any()
                    }
                })}
            </Transition>
        </section>
    }
}

/// How a deployment went out, said only when it was not a plain deploy (nine columns did not fit
/// a tablet; the kind is a mark beside the version, as in the matrix).
fn kind_mark(kind: DeploymentKind) -> Option<impl IntoView> {
    let (class, mark, title) = match kind {
        DeploymentKind::Deploy => return None,
        DeploymentKind::Rollback => (
            "badge rollback-mark",
            "↩ rollback",
            "This deployment rolled back to an earlier version",
        ),
        DeploymentKind::Promote => (
            "badge kind-mark",
            "⇡ promote",
            "This version was promoted from the environment before it",
        ),
    };
    Some(view! { " " <span class=class title=title>{mark}</span> })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_links_keep_the_filters() {
        let q = DeploymentQuery {
            service: Some("api".into()),
            status: Some(DeploymentStatus::Failed),
            ..Default::default()
        };
        assert_eq!(
            history_href(&q, Some(9)),
            "/deployments?service=api&status=failed&cursor=9#history"
        );
        assert_eq!(
            history_href(&DeploymentQuery::default(), None),
            "/deployments#history"
        );
    }
}
