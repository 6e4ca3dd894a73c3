//! Entry point of the binary: parse the command line, then serve or run an admin command.

use crate::auth::accounts::SYSTEM_ACTOR;
use crate::auth::sessions;
use crate::config::{
    check_database_url, Cli, Command, LogFormat, ServeConfig, TokenCommand, UserCommand,
};
use crate::db::Db;
use crate::shutdown::Phase;
use crate::state::AppState;
use app::model::Role;
use clap::Parser;
use std::io::BufRead;
use std::net::SocketAddr;
use std::process::ExitCode;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("flightdeck: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => match args.validate() {
                Ok(config) => serve(config).await,
                Err(problems) => {
                    eprintln!(
                        "flightdeck: the configuration has {} problem(s):",
                        problems.len()
                    );
                    for p in &problems {
                        eprintln!("  - {p}");
                    }
                    Err(ExitCode::from(2))
                }
            },
            Command::User(UserCommand::Add {
                username,
                role,
                password_stdin: _,
                db,
            }) => user_add(&db.database_url, &username, &role).await,
            Command::User(UserCommand::Disable { account, db }) => {
                let change = app::model::UserChange {
                    disabled: Some(true),
                    ..Default::default()
                };
                user_change(&db.database_url, account.username(), change).await
            }
            Command::User(UserCommand::Enable { account, db }) => {
                let change = app::model::UserChange {
                    disabled: Some(false),
                    ..Default::default()
                };
                user_change(&db.database_url, account.username(), change).await
            }
            Command::User(UserCommand::SetRole { account, role, db }) => match parse_role(&role) {
                Ok(role) => {
                    let change = app::model::UserChange {
                        role: Some(role),
                        ..Default::default()
                    };
                    user_change(&db.database_url, account.username(), change).await
                }
                Err(code) => Err(code),
            },
            Command::User(UserCommand::ResetPassword { account, db, .. }) => {
                match read_password() {
                    Ok(password) => {
                        let change = app::model::UserChange {
                            password: Some(password),
                            ..Default::default()
                        };
                        user_change(&db.database_url, account.username(), change).await
                    }
                    Err(code) => Err(code),
                }
            }
            Command::Token(TokenCommand::Create {
                name,
                role,
                scopes,
                environment,
                db,
            }) => {
                token_create(
                    &db.database_url,
                    &name,
                    role.as_deref(),
                    &scopes,
                    environment,
                )
                .await
            }
            remote => crate::remote::run(remote).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("flightdeck: {message}");
    ExitCode::FAILURE
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

async fn open_db(url: &str) -> Result<Db, ExitCode> {
    check_database_url(url).map_err(fail)?;
    Db::connect(url).await.map_err(fail)
}

fn parse_role(raw: &str) -> Result<Role, ExitCode> {
    raw.parse::<Role>().map_err(fail)
}

async fn admin_context(url: &str) -> Result<(Db, AppState), ExitCode> {
    let db = open_db(url).await?;
    let options = crate::web::leptos_options("target/site", SocketAddr::from(([127, 0, 0, 1], 0)));
    let state = AppState::new(db.clone(), options, Default::default())
        .await
        .map_err(fail)?;
    Ok((db, state))
}

/// The first line of standard input, without its line ending.
fn read_password() -> Result<String, ExitCode> {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| fail(format!("cannot read the password from standard input: {e}")))?;
    Ok(password.trim_end_matches(['\r', '\n']).to_string())
}

async fn user_change(
    url: &str,
    username: &str,
    change: app::model::UserChange,
) -> Result<(), ExitCode> {
    let (db, state) = admin_context(url).await?;
    let user = state
        .accounts
        .change_user(SYSTEM_ACTOR, username, change)
        .await
        .map_err(fail)?;
    db.close().await;
    let status = if user.disabled_at.is_some() {
        "disabled"
    } else {
        "enabled"
    };
    println!("{} is {status}, with role {}.", user.username, user.role);
    Ok(())
}

async fn user_add(url: &str, username: &str, role: &str) -> Result<(), ExitCode> {
    let role = parse_role(role)?;
    let password = read_password()?;
    let (db, state) = admin_context(url).await?;
    let user = state
        .accounts
        .add_user(SYSTEM_ACTOR, username, role, &password)
        .await
        .map_err(fail)?;
    db.close().await;
    println!("Created user {} with role {}.", user.username, user.role);
    Ok(())
}

async fn token_create(
    url: &str,
    name: &str,
    role: Option<&str>,
    scopes: &[String],
    environment: Option<String>,
) -> Result<(), ExitCode> {
    let scopes = app::scopes::Scope::parse_list(scopes.iter().map(String::as_str)).map_err(fail)?;
    let role = match role {
        Some(role) => Some(parse_role(role)?),
        None => None,
    };
    let role = crate::rest::token_role(role, &scopes).map_err(fail)?;
    let (db, state) = admin_context(url).await?;
    let created = state
        .accounts
        .add_token(
            SYSTEM_ACTOR,
            name,
            role,
            app::model::TokenLimits {
                scopes: scopes.clone(),
                environment,
            },
        )
        .await
        .map_err(fail)?;
    db.close().await;
    let limited = if scopes.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        format!(", limited to {}", names.join(", "))
    };
    eprintln!(
        "Created token '{}' with role {role}{limited}. It is shown once; store it now:",
        created.summary.name
    );
    println!("{}", created.token);
    Ok(())
}

/// On the very first start there is nobody to sign in as: create `admin`.
async fn bootstrap_admin(state: &AppState, password: Option<&str>) -> Result<(), ExitCode> {
    if state.accounts.count_users().await.map_err(fail)? > 0 {
        return Ok(());
    }
    let (password, generated) = match password {
        Some(p) => (p.to_string(), false),
        None => (random_password(), true),
    };
    state
        .accounts
        .add_user(SYSTEM_ACTOR, "admin", Role::Admin, &password)
        .await
        .map_err(fail)?;
    if generated {
        // Printed once, to the terminal only, never through the structured log pipeline.
        eprintln!("\n  Created the first user.\n    username: admin\n    password: {password}\n  Store it now; it is not shown again.\n");
    } else {
        tracing::info!(
            "created the first user 'admin' with the password from FLIGHTDECK_ADMIN_PASSWORD"
        );
    }
    Ok(())
}

fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down: finishing requests in flight and running deployments");
}

async fn serve(config: ServeConfig) -> Result<(), ExitCode> {
    init_logging(config.log_format);
    let startup = crate::memory::StartupPurge::begin();
    let db = open_db(&config.database_url).await?;
    let store = sessions::Store::open(&db.typed).await.map_err(fail)?;
    store.spawn_cleanup();
    let options = crate::web::leptos_options(&config.site_root.to_string_lossy(), config.addr);
    let state = AppState::new(db.clone(), options, config.web.clone())
        .await
        .map_err(fail)?;
    bootstrap_admin(&state, config.admin_password.as_deref()).await?;
    if config.demo {
        crate::demo::fill(&state, config.addr).await.map_err(fail)?;
    }
    state
        .deployments
        .recover_interrupted()
        .await
        .map_err(fail)?;
    state.start_workers();
    let shutdown = state.shutdown.clone();
    let deployments = state.deployments.clone();
    let allowance = config.limits.shutdown_timeout;
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            shutdown_signal().await;
            shutdown.enter(Phase::Draining);
            tokio::time::sleep(allowance).await;
            shutdown.enter(Phase::Abandoning);
        }
    });
    let app = crate::web::router(state, store);
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| fail(format!("cannot listen on {}: {e}", config.addr)))?;
    tracing::info!(addr = %config.addr, backend = ?db.backend, "Flightdeck is serving on http://{}", config.addr);
    drop(startup);
    let draining = shutdown.clone();
    crate::serve::serve(listener, app, config.limits, async move {
        draining.reached(Phase::Draining).await
    })
    .await;
    // Running deployments finish, or are recorded failed once the allowance runs out.
    deployments.drained().await;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}
